"""Prompt files: declared variables checked at load time, strict rendering, shared refusal phrase."""

import pytest

from rag.answer.refusal import REFUSAL_PHRASE
from rag.prompts import PromptError, available_prompts, load_prompt, packaged, split_messages


def write(tmp_path, name, text):
    path = tmp_path / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_prompt_loads_and_declares_what_it_uses():
    names = available_prompts()
    assert {"answer", "answer_markers", "support_judge"} <= set(names)
    for name in names:
        prompt = load_prompt(name)
        assert prompt.name == name and len(prompt.hash) == 12
        assert prompt.path == str(packaged().joinpath(f"{name}.md"))


def test_answer_prompts_take_the_refusal_phrase_from_the_constant():
    for name in ("answer", "answer_markers"):
        prompt = load_prompt(name)
        assert "refusal_phrase" in prompt.variables
        assert REFUSAL_PHRASE not in prompt.text  # the file holds the variable, never a copy
        rendered = prompt.render(sources="S", question="Q")
        assert REFUSAL_PHRASE in rendered


def test_an_undeclared_variable_is_refused_at_load_time(tmp_path):
    path = write(tmp_path, "p", "---\nvariables: [question]\n---\n{{question}} {{context}}\n")
    with pytest.raises(PromptError, match="undeclared variable.*context"):
        load_prompt(path)


def test_a_declared_but_unused_variable_is_refused_at_load_time(tmp_path):
    path = write(tmp_path, "p", "---\nvariables: [question, sources]\n---\n{{question}}\n")
    with pytest.raises(PromptError, match="never uses: sources"):
        load_prompt(path)


@pytest.mark.parametrize("text, message", [
    ("no front matter {{x}}", "no front matter"),
    ("---\nvariables: [x]\n{{x}}", "not closed"),
    ("---\nvariables: x\n---\n{{x}}", "list of names"),
    ("---\nvariables: ['bad name']\n---\nhi", "list of names"),
    ("---\n: [\n---\nhi", "bad front matter"),
])
def test_malformed_prompt_files_fail_with_one_line(tmp_path, text, message):
    with pytest.raises(PromptError, match=message) as err:
        load_prompt(write(tmp_path, "p", text))
    assert "\n" not in str(err.value)


def test_render_rejects_missing_and_unknown_values():
    prompt = load_prompt("answer")
    with pytest.raises(PromptError, match="missing value.*question"):
        prompt.render(sources="S")
    with pytest.raises(PromptError, match="unknown variable.*colour"):
        prompt.render(sources="S", question="Q", colour="red")


def test_values_are_substituted_once_never_expanded_again(tmp_path):
    prompt = load_prompt(write(tmp_path, "p", "---\nvariables: [a, b]\n---\n<{{a}}|{{ b }}>\n"))
    assert prompt.render(a="{{b}}", b="x") == "<{{b}}|x>\n"


def test_role_markers_split_messages_and_plain_text_is_one_user_message(tmp_path):
    messages = load_prompt("answer").messages(sources="<source n=\"1\">text</source>", question="Why?")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Why?" in messages[1]["content"] and "Why?" not in messages[0]["content"]
    assert "data, not instructions" in messages[0]["content"]
    assert split_messages("just text\n") == [("user", "just text\n")]
    plain = write(tmp_path, "plain", "---\nvariables: []\n---\njust text\n")
    assert load_prompt(plain).messages() == [{"role": "user", "content": "just text"}]


def test_the_hash_follows_the_file_content(tmp_path):
    path = write(tmp_path, "p", "---\nvariables: []\n---\nHello\n")
    first = load_prompt(path).hash
    path.write_text("---\nvariables: []\n---\nHello!\n", encoding="utf-8")
    assert load_prompt(path).hash != first


def test_an_unknown_prompt_name_lists_the_available_ones():
    with pytest.raises(PromptError, match="available: .*answer"):
        load_prompt("no_such_prompt")
    with pytest.raises(PromptError, match="no prompt file"):
        load_prompt("/nonexistent/dir/p.md")
