"""The LLM briefing (map-reduce) against a scripted OpenAI-compatible server on 127.0.0.1. The
scripted "model" reads the sources out of each request, so its replies cite what was really
sent; it also hallucinates a citation, states something no source says, misdates an event and
invents a quote, and the verification must catch each one."""

import re

import pytest
from conftest import CORPUS
from scripted_server import Reply, ScriptedServer, completion, json_completion

from rag.answer.verify import quote_is_verbatim
from rag.api import Rag
from rag.eval.scorers import briefing_parts
from rag.llm.log import read_calls
from rag.retrieval import Filters
from rag.settings import Settings

_SOURCE = re.compile(r'<source n="(\d+)"([^>]*)>\n(.*?)\n</source>', re.DOTALL)
_SPLIT = re.compile(r"(?<=[.!?])[\"”]?\s+")
INVENTED = "Iran apologised for the attack and paid the embassy damages of 400 million dollars."
TOPIC = "the rocket attack on the US embassy in Baghdad"


def sources_in(body, dated: bool | None = None) -> dict[int, str]:
    """Source number → text; `dated` keeps only sources with (True) or without (False) a date."""
    found = _SOURCE.findall(body["messages"][-1]["content"])
    return {int(n): text for n, attrs, text in found if dated is None or ('date="' in attrs) == dated}


def sentences_of(text: str) -> list[str]:
    return [s.strip(" •") for line in text.split("\n") for s in _SPLIT.split(line.strip(" •")) if len(s.split()) >= 8]


def first_with(sources: dict[int, str], *words) -> tuple[int, str] | None:
    for n, text in sources.items():
        for s in sentences_of(text) or [text]:
            if all(w.lower() in s.lower() for w in words):
                return n, s
    return None


def is_reduce(body) -> bool:
    return "Write the briefing" in body["messages"][-1]["content"]


def map_reply(body) -> Reply:
    sources = sources_in(body)
    facts = []
    for n, text in sources.items():  # each source's first sentence, and any dated one or tweet
        found = sentences_of(text)
        picked = found[:1] + [s for s in found[1:] if "Sunday" in s or "health advice" in s]
        facts += [{"text": s, "citations": [n]} for s in picked]
    facts = facts[:10]
    if facts:
        facts[0]["citations"].append(99)  # a source number that was never sent
        facts.append({"text": INVENTED, "citations": facts[0]["citations"][:1]})
    return json_completion({"refused": False, "sentences": facts, "conflicts": []})


def reduce_reply(body) -> Reply:
    ex = sources_in(body)
    plain = [(n, t) for n, t in ex.items()]
    summary = [{"text": t, "citations": [n]} for n, t in plain[:2]]
    facts = [{"text": t, "citations": [n]} for n, t in plain[2:5]]
    facts.append({"text": INVENTED, "citations": [plain[0][0]]})
    if len(plain) > 5:
        facts.append({"text": plain[5][1], "citations": [plain[5][0], 42]})
    timeline = []
    if sunday := first_with(sources_in(body, dated=True), "Sunday"):
        timeline.append({"date": "2020-12-20", "text": sunday[1], "citations": [sunday[0]]})
        timeline.append({"date": "2021-06-01", "text": sunday[1] + " ", "citations": [sunday[0]]})
    if undated := first_with(sources_in(body, dated=False), "Sunday"):
        timeline.append({"date": "2020-12-20", "text": undated[1] + "  ", "citations": [undated[0]]})
    quotes = [{"speaker": "Trump", "words": "We will flatten Tehran by Friday", "citations": [plain[0][0]]}]
    for n, text in ex.items():  # a real quotation of Trump's, copied exactly
        words = re.search(r"[\"“]([^\"“”]{12,})[\"”]", text)
        if words and "Trump" in text:
            quotes.append({"speaker": "Trump", "words": words.group(1), "citations": [n]})
            break
    return json_completion({"summary": summary, "key_facts": facts, "timeline": timeline, "quotes": quotes,
                            "disagreements": []})


def scripted(body) -> Reply:
    return reduce_reply(body) if is_reduce(body) else map_reply(body)


@pytest.fixture
def server():
    with ScriptedServer(responder=scripted) as srv:
        yield srv


def settings_for(store, server, tmp_path, **overrides) -> Settings:
    values = {"store_dir": store, "corpus_dir": CORPUS, "llm_base_url": server.url, "llm_model": "scripted-model",
              "llm_timeout": 5, "llm_retries": 0, "cache_dir": tmp_path / "cache", "llm_log": tmp_path / "log.jsonl"}
    return Settings(**{**values, **overrides})


@pytest.fixture
def briefing_and_rag(corpus_store, server, tmp_path):
    rag = Rag(settings_for(corpus_store, server, tmp_path, llm_context_window=2048, llm_max_tokens=300))
    yield rag.brief(TOPIC, engine="llm"), rag, server
    rag.close()


def test_map_reduce_stays_within_the_budget_and_uses_both_prompts(briefing_and_rag, tmp_path):
    briefing, rag, server = briefing_and_rag
    requests = server.chat_requests()
    maps = [r for r in requests if not is_reduce(r)]
    reduces = [r for r in requests if is_reduce(r)]
    assert len(maps) >= 2, "a 2048-token window cannot hold every chunk: the map step needs several calls"
    assert len(reduces) == 1
    budget = 2048 - 300
    from rag.text.tokens import count_tokens

    for r in requests:
        assert sum(count_tokens(m["content"]) for m in r["messages"]) <= budget
        assert r["response_format"]["type"] == "json_schema"
    assert briefing.engine == "llm" and briefing.model == "scripted-model"
    assert briefing.prompt_name == "brief_map+brief_reduce" and "+" in briefing.prompt_hash
    assert briefing.usage.prompt_tokens > 0
    purposes = {c.purpose for c in read_calls(rag.settings)}
    assert {"answer", "briefing"} <= purposes


def test_every_citation_is_verbatim_and_every_point_cites(briefing_and_rag):
    briefing, rag, _ = briefing_and_rag
    docs = rag.store.docs
    assert briefing.summary and briefing.key_facts and briefing.citations
    for c in briefing.citations:
        assert quote_is_verbatim(c, docs.raw(c.source)), c
    numbers = {c.n for c in briefing.citations}
    for p in briefing.summary + briefing.key_facts + briefing.timeline + briefing.quotes:
        assert p.citations and set(p.citations) <= numbers


def test_hallucinated_citations_are_dropped_and_noted(briefing_and_rag):
    briefing, _, _ = briefing_and_rag
    notes = " ".join(briefing.notes)
    assert "map: dropped citation [99]" in notes
    assert "reduce: dropped citation [42]" in notes


def test_unsupported_sentences_are_dropped_in_map_and_marked_in_reduce(briefing_and_rag):
    briefing, _, _ = briefing_and_rag
    assert "map: dropped" in " ".join(briefing.notes) and "do not support" in " ".join(briefing.notes)
    [invented] = [p for p in briefing.key_facts if p.text == INVENTED]
    assert invented.supported is False
    assert all(p.supported for p in briefing.summary)
    from rag.brief.render import to_markdown

    assert f"{INVENTED} [" in to_markdown(briefing) and "(UNSUPPORTED by its citations)" in to_markdown(briefing)


def test_timeline_dates_must_come_from_the_excerpts(briefing_and_rag):
    briefing, _, _ = briefing_and_rag
    sundays = [e for e in briefing.timeline if "Sunday" in e.text]
    assert sundays, "the scripted model dates a Sunday sentence"
    for e in sundays:  # the model's wrong 2021-06-01 is replaced by what the excerpt says
        assert e.date.isoformat() == "2020-12-20" and e.dating
    assert any("2021-06-01" in n and "not what its excerpts say" in n for n in briefing.notes)
    # a weekday from an article without a publication date cannot be placed: dropped, and said so
    assert any("excerpts state no date" in n for n in briefing.notes)


def test_invented_quotes_are_dropped_and_real_ones_kept(briefing_and_rag):
    briefing, _, _ = briefing_and_rag
    assert all("flatten Tehran" not in q.words for q in briefing.quotes)
    assert any("flatten Tehran" in n for n in briefing.notes)
    [kept] = [q for q in briefing.quotes if q.speaker == "Trump"]
    assert kept.supported and kept.citations


def test_episodes_are_given_to_the_reduce_step(corpus_store, server, tmp_path):
    rag = Rag(settings_for(corpus_store, server, tmp_path))
    briefing = rag.brief(None, engine="llm")
    rag.close()
    [reduce] = [r for r in server.chat_requests() if is_reduce(r)]
    text = reduce["messages"][-1]["content"]
    assert "Separate episodes, never to be merged" in text and "004_bd0859deabb9f25c.txt" in text
    assert len(briefing.episodes) >= 2
    _, citations = briefing_parts(briefing.model_dump(mode="json"))
    assert citations


def test_unusable_reduce_reply_falls_back_to_the_verified_map_facts(corpus_store, tmp_path):
    def broken(body):
        return completion("not json at all") if is_reduce(body) else map_reply(body)

    with ScriptedServer(responder=broken) as srv:
        rag = Rag(settings_for(corpus_store, srv, tmp_path))
        briefing = rag.brief(TOPIC, Filters(source="003_*"), engine="llm")
        rag.close()
    assert any("verified map facts are shown instead" in n for n in briefing.notes)
    assert briefing.summary and all(p.supported for p in briefing.summary + briefing.key_facts)
    assert INVENTED not in [p.text for p in briefing.summary + briefing.key_facts]


def test_llm_failure_is_one_line_or_falls_back(corpus_store, tmp_path, cli):
    from scripted_server import error

    with ScriptedServer() as srv:
        srv.script(*[error(500)] * 4)
        code, out, err = cli("brief", TOPIC, "--engine", "llm", "--store-dir", corpus_store, "--base-url", srv.url,
                             "--set", "llm_retries=0", "--set", f"cache_dir={tmp_path / 'c'}",
                             "--set", f"llm_log={tmp_path / 'l.jsonl'}", "--no-cache")
        assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1 and not out
        srv.script(*[error(500)] * 4)
        code, out, err = cli("brief", TOPIC, "--engine", "llm", "--store-dir", corpus_store, "--base-url", srv.url,
                             "--set", "llm_retries=0", "--fallback", "extractive", "--no-cache",
                             "--set", f"cache_dir={tmp_path / 'c'}", "--set", f"llm_log={tmp_path / 'l.jsonl'}")
    assert code == 0, err
    assert "briefed with the extractive engine" in out and "## Timeline" in out


def test_llm_engine_without_an_endpoint_is_one_line(corpus_store, cli):
    code, out, err = cli("brief", TOPIC, "--engine", "llm", "--store-dir", corpus_store)
    assert code == 1 and err.startswith("error: ") and not out
