"""The web page in a real headless browser (Debian chromium + chromium-driver, driven by Selenium):
it renders the same Answer the CLI renders, a citation click highlights exactly the cited lines,
refusals, conflicts and errors are shown plainly, and the token prompt works."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer
from web_browser import CHROMEDRIVER, CHROMIUM, MISSING

from rag.answer.refusal import REFUSAL_PHRASE
from rag.api import Rag
from rag.brief.render import article_line, relative_note, shown_line, side_sources
from rag.render import claim_sources
from rag.server import create_app
from rag.settings import Settings

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {MISSING}", pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
QUESTION = "How many rockets were fired at the US embassy in Baghdad?"
UNANSWERABLE = "What is the capital of Australia?"
WAIT = 180  # seconds: an answer on a busy 2-core machine can take a while


def settings(store: Path, token: str | None = None) -> Settings:
    return Settings(store_dir=store, corpus_dir=CORPUS, api_token=token)


@pytest.fixture(scope="module")
def server(corpus_store):
    with LiveServer(create_app(settings(corpus_store))) as live:
        yield live


pytestmark = pytest.mark.usefixtures("screenshots")


def text(element) -> str:
    return " ".join(element.text.split())


def squash(value: str) -> str:
    return " ".join(value.split())


def ask(browser, url: str, question: str):
    browser.get(url + "/")
    box = browser.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    browser.find_element(By.ID, "ask-button").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "answer").is_displayed() or d.find_element(By.ID, "error").is_displayed())


def highlighted_lines(browser) -> list[int]:
    return [int(li.get_attribute("data-line")) for li in browser.find_elements(By.CSS_SELECTOR, "#doc-lines li.hl")]


def open_citation(browser, selector: str, citation) -> None:
    browser.find_element(By.CSS_SELECTOR, selector).click()
    wanted = list(range(citation.line_start, citation.line_end + 1))
    WebDriverWait(browser, 30).until(
        lambda d: citation.source in d.find_element(By.ID, "doc-meta").text and highlighted_lines(d) == wanted)


def test_answer_renders_like_the_cli_and_citations_open_the_cited_lines(browser, server, corpus_rag):
    answer = corpus_rag.ask(QUESTION)
    assert answer.citations and not answer.refused
    ask(browser, server.url, QUESTION)
    assert not browser.find_element(By.ID, "error").is_displayed()

    # Sentence by sentence, the page shows what `rag ask` prints: the text, then its [n] markers.
    shown = [text(p) for p in browser.find_elements(By.CSS_SELECTOR, "#sentences p.sentence")]
    assert shown == [squash(f"{s.text} " + "".join(f"[{n}]" for n in s.citations)) for s in answer.sentences]
    entries = browser.find_elements(By.CSS_SELECTOR, "#citations li")
    assert len(entries) == len(answer.citations)
    for entry, c in zip(entries, answer.citations):
        where = f"{c.source}:{c.line_start}" + (f"-{c.line_end}" if c.line_end != c.line_start else "")
        assert text(entry.find_element(By.CSS_SELECTOR, "a.where")) == f"[{c.n}] {where}"
        assert text(entry.find_element(By.TAG_NAME, "q")) == squash(c.quote)

    # A click on a citation opens its article with exactly the cited lines highlighted.
    for c in answer.citations:
        open_citation(browser, f"#citations-{c.n} a.where", c)
        marked = " ".join(text(li.find_element(By.CSS_SELECTOR, ".text"))
                          for li in browser.find_elements(By.CSS_SELECTOR, "#doc-lines li.hl"))
        assert squash(c.quote) in marked
        article = corpus_rag.store.docs.article(c.source)
        assert text(browser.find_element(By.ID, "doc-title")) == squash(article.title or c.source)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#doc-lines li")) == article.n_lines
    # The [n] marker after a sentence works the same way.
    first = answer.sentences[0].citations[0]
    open_citation(browser, f'#sentences button.cite[data-n="{first}"]', answer.citations[first - 1])


def test_conflicts_are_shown_with_each_figure_cited(browser, server, corpus_rag):
    answer = corpus_rag.ask(QUESTION)
    assert answer.conflicts, "this question's answer reports disagreeing figures (see README)"
    ask(browser, server.url, QUESTION)
    boxes = browser.find_elements(By.CSS_SELECTOR, "#conflicts .conflict")
    assert len(boxes) == len(answer.conflicts)
    for box, conflict in zip(boxes, answer.conflicts):
        tally = " (a running tally: the latest dated figure first)" if conflict.tally else ""
        assert text(box.find_element(By.TAG_NAME, "h3")) == f"Sources disagree on the number of {conflict.about}{tally}:"
        grouped: dict[str, list] = {}
        for claim in conflict.claims:
            grouped.setdefault(claim.value.lower(), []).append(claim)
        shown = [text(li) for li in box.find_elements(By.CSS_SELECTOR, "li.claim")]
        # each figure with its citations, then its outlets and dates (rag.render.claim_sources)
        assert shown == [squash(f"{value} " + "".join(f"[{c.citation}]" for c in cs) + claim_sources(cs))
                         for value, cs in grouped.items()]
    claim = answer.conflicts[0].claims[0]
    open_citation(browser, f'#conflicts button.cite[data-n="{claim.citation}"]', answer.citations[claim.citation - 1])


def test_a_refusal_is_shown_plainly(browser, server, corpus_rag):
    answer = corpus_rag.ask(UNANSWERABLE)
    assert answer.refused
    ask(browser, server.url, UNANSWERABLE)
    refusal = browser.find_element(By.ID, "refusal")
    assert refusal.is_displayed() and REFUSAL_PHRASE in refusal.text and "No answer in the corpus" in refusal.text
    assert browser.find_elements(By.CSS_SELECTOR, "#sentences p") == []
    assert [text(li) for li in browser.find_elements(By.CSS_SELECTOR, "#notes li")] == [f"note: {n}" for n in answer.notes]


def test_a_bad_question_shows_the_error(browser, server):
    ask(browser, server.url, "?!?")
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and "no words" in error.text
    assert not browser.find_element(By.ID, "answer").is_displayed()


def test_a_link_to_a_citation_opens_it(browser, server, corpus_rag):
    source = "003_568550a85670bdb3.txt"
    browser.get(f"{server.url}/#doc={source}:13-15")
    WebDriverWait(browser, 30).until(lambda d: highlighted_lines(d) == [13, 14, 15])
    assert text(browser.find_element(By.ID, "doc-title")) == squash(corpus_rag.store.docs.article(source).title)


def test_the_page_loads_nothing_from_elsewhere(browser, server):
    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(lambda d: "documents" in d.find_element(By.ID, "index-status").text)
    assert text(browser.find_element(By.ID, "index-status")).startswith("5 documents")
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(name.startswith(server.url + "/") for name in resources)


def test_the_page_asks_for_the_token_and_uses_it(browser, corpus_store):
    with LiveServer(create_app(settings(corpus_store, token="page-token"))) as live:
        browser.get(live.url + "/")
        browser.execute_script("localStorage.removeItem('rag-token')")
        browser.refresh()
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "token-box").is_displayed())
        browser.find_element(By.ID, "token").send_keys("page-token")
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        WebDriverWait(browser, 30).until(lambda d: "documents" in d.find_element(By.ID, "index-status").text)
        assert not browser.find_element(By.ID, "token-box").is_displayed()
        source = "003_568550a85670bdb3.txt"
        browser.get(f"{live.url}/#doc={source}:2-3")
        WebDriverWait(browser, 30).until(lambda d: highlighted_lines(d) == [2, 3])
        browser.execute_script("localStorage.removeItem('rag-token')")


def test_the_api_docs_render_offline(browser, server):
    browser.get(server.url + "/docs")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/ask", "/search", "/documents/{source}", "/ingest", "/metrics"} <= paths
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith(server.url + "/") for name in resources)


def test_the_briefing_view_renders_the_briefing_and_opens_its_citations(browser, server, corpus_rag):
    topic = "rocket attacks on the US embassy in Baghdad"
    b = corpus_rag.brief(topic)
    assert b.summary and b.key_facts and b.citations
    browser.get(server.url + "/")
    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="brief-view"]').click()
    browser.find_element(By.ID, "topic").send_keys(topic)
    browser.find_element(By.ID, "brief-button").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "briefing").is_displayed() or d.find_element(By.ID, "brief-error").is_displayed())
    assert not browser.find_element(By.ID, "brief-error").is_displayed()

    def tag(episode):
        return f"E{episode} " if len(b.episodes) > 1 and episode else ""

    def marks(numbers):
        return "".join(f"[{n}]" for n in numbers)

    def shown(selector):
        return [text(e) for e in browser.find_elements(By.CSS_SELECTOR, f"#briefing {selector}")]

    # The same sections, in the same order and words, as `rag brief` (rag/brief/render.py).
    assert shown("h2") == [f"Briefing: {topic}"]
    assert shown("h3")[:5] == ["Summary", "Key facts", "Timeline", "Who said what", "Where sources disagree"]
    assert shown("p.summary") == [squash(" ".join(f"{tag(p.episode)}{p.text} {marks(p.citations)}" for p in b.summary))]
    assert shown("ul.key-facts > li") == [squash(f"{tag(p.episode)}{p.text} {marks(p.citations)}") for p in b.key_facts]
    assert shown("ul.timeline > li") == [squash(f"{e.when}{relative_note(e)} {tag(e.episode)}— {e.text} "
                                                f"{marks(e.citations)}") for e in b.timeline]
    assert shown("ul.quotes > li") == [squash(f"{tag(q.episode)}{q.speaker or 'unattributed'}: “{q.words}” "
                                              f"{marks(q.citations)}") for q in b.quotes]
    assert shown("ul.disagreements li.side") == [squash(f"{s.value} {marks(s.citations)}{side_sources(s)}")
                                                 for d in b.disagreements for s in d.sides]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#brief-citations li")) == len(b.citations)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".sources-table tr")) == len(b.sources) + 1

    fact = b.key_facts[0]
    open_citation(browser, f'#briefing ul.key-facts > li:first-child button.cite[data-n="{fact.citations[0]}"]',
                  b.citations[fact.citations[0] - 1])
    last = b.citations[-1]
    open_citation(browser, f"#brief-citations-{last.n} a.where", last)


def test_the_new_since_digest_reads_like_rag_brief(browser, server, corpus_rag):
    topic, since = "rocket attacks on the US embassy in Baghdad", dt.date(2020, 12, 23)
    b = corpus_rag.brief(topic, new_since=since)
    assert b.new_articles  # the corpus has one article dated after the 23rd
    browser.get(server.url + "/")
    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="brief-view"]').click()
    browser.find_element(By.ID, "topic").send_keys(topic)
    browser.execute_script("document.getElementById('new-since').value = arguments[0]", since.isoformat())
    browser.find_element(By.ID, "brief-button").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "briefing").is_displayed() or d.find_element(By.ID, "brief-error").is_displayed())
    assert not browser.find_element(By.ID, "brief-error").is_displayed()
    # each article's heading and its count line in rag/brief/render.py's words
    assert [text(e) for e in browser.find_elements(By.CSS_SELECTOR, "#briefing h4")] == [
        squash(article_line(a)) for a in b.new_articles]
    assert [text(e) for e in browser.find_elements(By.CSS_SELECTOR, "#briefing ul.new-article > li.shown")] == [
        shown_line(a) for a in b.new_articles]
    points = browser.find_elements(By.CSS_SELECTOR, "#briefing ul.new-article > li:not(.shown) span.text")
    assert [text(e) for e in points] == [squash(p.text) for a in b.new_articles for p in a.points]


def llm_page_reply(body):
    """Streamed [n]-marker replies (the page streams): an invention for the World Series, else a
    right fact cited to the wrong source plus an unsupported sentence."""
    from scripted_server import streamed
    from test_llm_engine import find

    if "World Series" in body["messages"][-1]["content"]:
        return streamed(["The 2020 World Series was won ", "by the Los Angeles Dodgers. [1]"])
    n, eight = find(body, "estimated eight rockets")
    m, _ = find(body, "more than 20 missiles")
    return streamed([f"{eight} [{m}] ", "The embassy in Baghdad was closed for three weeks. [1]"])


@pytest.fixture(scope="module")
def llm_server(corpus_store, tmp_path_factory):
    from scripted_server import ScriptedServer

    tmp = tmp_path_factory.mktemp("web-llm")
    with ScriptedServer(llm_page_reply) as model:
        llm = Settings(store_dir=corpus_store, corpus_dir=CORPUS, engine="llm", llm_base_url=model.url,
                       llm_model="scripted-model", cache_dir=tmp / "cache", llm_log=tmp / "log.jsonl")
        with LiveServer(create_app(llm)) as live:
            yield live


def test_llm_answers_show_repairs_removals_and_rejected_output_like_the_cli(browser, llm_server):
    ask(browser, llm_server.url, QUESTION)
    sentences = [text(p) for p in browser.find_elements(By.CSS_SELECTOR, "#sentences p")]
    assert len(sentences) == 1 and "estimated eight rockets" in sentences[0]
    assert "(re-cited: the model cited 002_5cca6cf56978dda1.txt:" in sentences[0]
    notes = " ".join(text(li) for li in browser.find_elements(By.CSS_SELECTOR, "#notes li"))
    assert "removed 1 of 2 sentences" in notes
    browser.find_element(By.CSS_SELECTOR, "#ask-form summary").click()
    browser.find_element(By.ID, "show-unsupported").click()
    browser.find_element(By.ID, "ask-button").click()
    WebDriverWait(browser, WAIT).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sentences p")) == 2)
    flagged = browser.find_elements(By.CSS_SELECTOR, "#sentences p.unsupported")
    assert len(flagged) == 1 and "closed for three weeks" in text(flagged[0])
    ask(browser, llm_server.url, "Who won the 2020 World Series?")
    assert browser.find_element(By.ID, "refusal").is_displayed()
    rejected = text(browser.find_element(By.ID, "rejected"))
    assert rejected.startswith("Rejected model output (no sentence of the model's answer is supported")
    assert "The 2020 World Series was won by the Los Angeles Dodgers. [1]" in rejected


# --- uploads from the page, and none from another site (issue 19, item 7) -------------------------

UPLOADED = "Harbour ferries halted\n\nDock workers walked out at the harbour on Monday, halting the island ferries.\n"


@pytest.fixture
def writable_server(small_corpus):
    Rag(small_corpus).ingest()
    with LiveServer(create_app(small_corpus)) as live:
        yield live, small_corpus


def test_the_page_uploads_and_then_shows_the_upload(browser, writable_server):
    live, settings = writable_server
    browser.get(live.url + "/")
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const form = new FormData();
        form.append("files", new Blob([arguments[0]], {type: "text/plain"}), "ferries.txt");
        api("/documents", {method: "POST", body: form}).then(r => done(r.status), e => done(String(e)));
    """, UPLOADED)
    assert status == 200
    assert (settings.corpus_dir / "uploads" / "ferries.txt").read_text() == UPLOADED
    browser.get(f"{live.url}/#doc=uploads%2Fferries.txt:3-3")  # the page opens the upload's lines
    WebDriverWait(browser, 30).until(lambda d: highlighted_lines(d) == [3])
    assert "uploads/ferries.txt" in browser.find_element(By.ID, "doc-meta").text


def test_a_page_on_another_site_cannot_upload(browser, writable_server, tmp_path):
    import http.server
    import threading

    live, settings = writable_server
    (tmp_path / "attack.html").write_text(f"""<!doctype html><script>
      const form = new FormData();
      form.append("files", new Blob(["Planted by another site."], {{type: "text/plain"}}), "planted.txt");
      fetch("{live.url}/documents", {{method: "POST", mode: "no-cors", body: form}})
        .finally(() => {{ document.title = "sent"; }});
    </script>""")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://localhost:{attacker.server_address[1]}/attack.html")  # another origin
        WebDriverWait(browser, 30).until(lambda d: d.title == "sent")
    finally:
        attacker.shutdown()
    assert not (settings.corpus_dir / "uploads" / "planted.txt").exists()
    metrics = httpx.get(f"{live.url}/metrics", params={"format": "json"}).json()
    # Refused before routing, so counted under "unmatched": the one POST the page made, a 403.
    assert [(r["method"], r["statuses"]) for r in metrics["routes"]] == [("POST", {"403": 1})]
