"""The web page as a workspace (issue 20), in the real headless chromium: the sources panel
pages, filters, sorts and scopes questions; links that ask run on load and the back button steps
through earlier questions; the briefing draws its timeline and coverage pictures (for every
briefing case in evals/, with no console error), also in a saved `rag brief --format html`; the
article pane follows the answer; keys step through citations; the page fits a phone."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest
import yaml
from live_server import LiveServer
from web_browser import CHROMEDRIVER, CHROMIUM, MISSING, console_errors
from workspace_corpus import write_feed

from rag.api import Rag
from rag.retrieval import Filters
from rag.server import create_app
from rag.settings import Settings

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {MISSING}", pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTION = "How many rockets were fired at the US embassy in Baghdad?"
OTHER = "Who was blamed for the rocket attacks?"
TOPIC = "rocket attacks on the US embassy in Baghdad"
WAIT = 180  # seconds: answers and briefings on a busy 2-core machine


@pytest.fixture(scope="module")
def server(corpus_store):
    with LiveServer(create_app(Settings(store_dir=corpus_store, corpus_dir=CORPUS))) as live:
        yield live


@pytest.fixture(scope="module")
def feed_server(tmp_path_factory):
    """60 synthetic articles from three outlets over 20 days (hash embedder): pages to turn."""
    root = tmp_path_factory.mktemp("feed")
    (root / "corpus").mkdir()
    write_feed(root / "corpus", 60)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        settings = Settings(store_dir=root / "store", corpus_dir=root / "corpus", embedding_model="hash")
        Rag(settings).ingest()
        with LiveServer(create_app(settings)) as live:
            yield live


@pytest.fixture(autouse=True)
def _fresh_page(browser, screenshots):
    browser.set_window_size(1400, 1000)
    console_errors(browser)  # drop what earlier tests logged


def text(element) -> str:
    return " ".join(element.text.split())


def shown(browser, element_id: str) -> bool:
    return browser.find_element(By.ID, element_id).is_displayed()


def link(kind: str, value: str, **filters) -> str:
    params = [(kind, value)] + [(k, v) for k, vs in filters.items() for v in (vs if isinstance(vs, list) else [vs])]
    return "#" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def visit(browser, url: str) -> None:
    """Load the page anew (from another page: a change of hash alone keeps the page and its last
    answer on screen, and a wait could see that answer)."""
    browser.get("about:blank")
    browser.get(url)


def wait_answer(browser):
    WebDriverWait(browser, WAIT).until(lambda d: shown(d, "answer") or shown(d, "error"))
    assert not shown(browser, "error"), browser.find_element(By.ID, "error").text


def wait_briefing(browser):
    WebDriverWait(browser, WAIT).until(lambda d: shown(d, "briefing") or shown(d, "brief-error"))
    assert not shown(browser, "brief-error"), browser.find_element(By.ID, "brief-error").text
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "brief-pictures").get_attribute("data-state") in ("drawn", "failed"))
    assert browser.find_element(By.ID, "brief-pictures").get_attribute("data-state") == "drawn"


def sentences(browser) -> list[str]:
    return [text(p) for p in browser.find_elements(By.CSS_SELECTOR, "#sentences p.sentence")]


def expected_sentences(answer) -> list[str]:
    return [" ".join(f"{s.text} {''.join(f'[{n}]' for n in s.citations)}".split()) for s in answer.sentences]


def address(browser) -> dict[str, list[str]]:
    """The parameters of the page's #q=... or #brief=... address."""
    return urllib.parse.parse_qs(browser.execute_script("return location.hash")[1:], keep_blank_values=True)


def settled(browser, timeout: float = 30) -> WebDriverWait:
    """A wait that polls through a re-render: an element read while the page replaces it is stale, not an answer."""
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,))


def highlighted_lines(browser) -> list[int]:
    return [int(li.get_attribute("data-line")) for li in browser.find_elements(By.CSS_SELECTOR, "#doc-lines li.hl")]


def viewer_source(browser) -> str | None:
    if not shown(browser, "viewer"):
        return None
    return browser.find_element(By.ID, "doc-meta").text.split(" · ")[0]


def event_marks(browser, container: str = "#brief-pictures") -> list:
    return browser.find_elements(By.CSS_SELECTOR, f"{container} .timeline-picture .scatterlayer .traceevents .point")


# --- links that ask ------------------------------------------------------------------------------

def test_a_q_link_shows_the_cited_answer_with_no_click(browser, server, corpus_rag):
    answer = corpus_rag.ask(QUESTION)
    visit(browser, server.url + "/" + link("q", QUESTION))
    wait_answer(browser)
    assert sentences(browser) == expected_sentences(answer)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#citations li")) == len(answer.citations)
    assert browser.find_element(By.ID, "question").get_attribute("value") == QUESTION
    assert console_errors(browser) == []


def test_a_q_link_carries_its_filters(browser, server, corpus_rag):
    only = "003_568550a85670bdb3.txt"
    answer = corpus_rag.ask(QUESTION, filters=Filters(sources=(only,)))
    assert answer.citations and {c.source for c in answer.citations} == {only}
    visit(browser, server.url + "/" + link("q", QUESTION, sources=[only], since="2020-12-01"))
    wait_answer(browser)
    assert sentences(browser) == expected_sentences(answer)
    assert {e.text.split(":")[0].split("] ")[1] for e in browser.find_elements(By.CSS_SELECTOR, "#citations a.where")} == {only}
    assert text(browser.find_element(By.ID, "ask-scope")).startswith("Scoped to 1 selected article")
    assert browser.find_element(By.ID, "since").get_attribute("value") == "2020-12-01"


def test_back_steps_through_earlier_questions(browser, server, corpus_rag):
    visit(browser, server.url + "/")
    for question in (QUESTION, OTHER):
        box = browser.find_element(By.ID, "question")
        box.clear()
        box.send_keys(question)
        browser.find_element(By.ID, "ask-button").click()
        WebDriverWait(browser, WAIT).until(lambda d, q=question: address(d) == {"q": [q]})
        wait_answer(browser)
        WebDriverWait(browser, WAIT).until(lambda d: not shown(d, "working"))
    second = sentences(browser)
    browser.back()
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "question").get_attribute("value") == QUESTION)
    wait_answer(browser)
    assert sentences(browser) == expected_sentences(corpus_rag.ask(QUESTION))
    browser.forward()
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "question").get_attribute("value") == OTHER)
    assert sentences(browser) == second


# --- the sources panel ---------------------------------------------------------------------------

def open_sources(browser, url):
    visit(browser, url + "/")
    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="sources-view"]').click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sources-rows tr"))


def rows(browser) -> list[list[str]]:
    """The panel's rows as shown (title with file, outlet, date, size), read at once (the table
    is redrawn while a test waits)."""
    return browser.execute_script("""return [...document.querySelectorAll('#sources-rows tr')].map(
        (tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.innerText.split(/\\s+/).join(' ').trim()))""")


def wait_range(browser, wanted: str):
    WebDriverWait(browser, 30).until(lambda d: text(d.find_element(By.ID, "sources-range")) == wanted)


def test_the_sources_panel_pages_sorts_and_filters(browser, feed_server):
    open_sources(browser, feed_server.url)
    wait_range(browser, "1–50 of 60")
    first = rows(browser)
    assert len(first) == 50
    dates = [r[2] for r in first]
    assert dates == sorted(dates, reverse=True) and dates[0] == "2022-06-20"  # newest first
    assert all(r[0].startswith("Dispatch") and r[1] in ("Harbour Times", "Island Post", "Coast Wire") and r[3].endswith("chars")
               for r in first)
    browser.find_element(By.ID, "sources-next").click()
    wait_range(browser, "51–60 of 60")
    assert len(rows(browser)) == 10 and browser.find_element(By.ID, "sources-next").get_attribute("disabled")

    browser.find_element(By.CSS_SELECTOR, '#sources-outlet option[value="Island Post"]').click()
    wait_range(browser, "1–20 of 20")
    assert {r[1] for r in rows(browser)} == {"Island Post"}
    browser.find_element(By.ID, "sources-q").send_keys("ferry")
    WebDriverWait(browser, 30).until(lambda d: text(d.find_element(By.ID, "sources-range")) == "1–5 of 5")
    assert all("Ferry Union" in r[0] and r[1] == "Island Post" for r in rows(browser))
    browser.find_element(By.CSS_SELECTOR, '#sources-sort option[value="date"]').click()
    WebDriverWait(browser, 30).until(lambda d: rows(d) and rows(d)[0][2] == "2022-06-01")
    dates = [r[2] for r in rows(browser)]
    assert dates == sorted(dates)
    browser.execute_script("const f = document.getElementById('sources-since'); f.value = '2022-06-10';"
                           "f.dispatchEvent(new Event('change'));")
    WebDriverWait(browser, 30).until(lambda d: [r[2] for r in rows(d)] == ["2022-06-13", "2022-06-17"])
    assert console_errors(browser) == []


def test_selected_sources_scope_questions_and_briefings(browser, server, corpus_rag):
    only = "003_568550a85670bdb3.txt"
    open_sources(browser, server.url)
    browser.find_element(By.CSS_SELECTOR, f'#sources-rows input[data-source="{only}"]').click()
    assert text(browser.find_element(By.ID, "selected-count")) == "1"
    browser.find_element(By.ID, "sources-ask").click()
    assert text(browser.find_element(By.ID, "ask-scope")).startswith("Scoped to 1 selected article")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "ask-button").click()
    wait_answer(browser)
    answer = corpus_rag.ask(QUESTION, filters=Filters(sources=(only,)))
    assert sentences(browser) == expected_sentences(answer)
    assert address(browser) == {"q": [QUESTION], "sources": [only]}

    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="sources-view"]').click()
    browser.find_element(By.ID, "sources-brief").click()
    wait_briefing(browser)
    b = corpus_rag.brief(None, Filters(sources=(only,)))
    assert [text(tr.find_elements(By.TAG_NAME, "td")[0]) for tr in
            browser.find_elements(By.CSS_SELECTOR, "#briefing .sources-table tr")[1:]] == [s.source for s in b.sources] == [only]

    browser.find_element(By.CSS_SELECTOR, "#brief-scope button").click()  # clear
    assert not shown(browser, "brief-scope") and not shown(browser, "selected-count")


def test_an_article_opens_from_the_sources_panel(browser, server, corpus_rag):
    open_sources(browser, server.url)
    row = browser.find_element(By.CSS_SELECTOR, '#sources-rows tr[data-source="001_c31d4bc7025f9123.txt"]')
    row.find_element(By.CSS_SELECTOR, "td.title button").click()
    WebDriverWait(browser, 30).until(lambda d: viewer_source(d) == "001_c31d4bc7025f9123.txt")
    article = corpus_rag.store.docs.article("001_c31d4bc7025f9123.txt")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#doc-lines li")) == article.n_lines


# --- suggestions ---------------------------------------------------------------------------------

def test_suggested_questions_come_from_the_corpus_and_ask_on_click(browser, server, corpus_rag):
    visit(browser, server.url + "/")
    WebDriverWait(browser, 30).until(lambda d: shown(d, "ask-suggestions"))
    chips = browser.find_elements(By.CSS_SELECTOR, "#ask-suggestions .suggestion")
    wanted = [s.text for s in corpus_rag.suggestions() if s.kind == "ask"]
    assert wanted and [text(c) for c in chips] == wanted
    assert "5 articles" in text(browser.find_element(By.ID, "overview"))
    chips[0].click()
    wait_answer(browser)
    assert address(browser) == {"q": [wanted[0]]}
    assert sentences(browser) == expected_sentences(corpus_rag.ask(wanted[0]))


# --- the briefing's pictures ---------------------------------------------------------------------

def corpus_briefing_cases() -> list[dict]:
    return [c for c in yaml.safe_load((ROOT / "evals" / "briefings.yaml").read_text()) if c.get("kind") == "briefing"]


@pytest.mark.parametrize("case", corpus_briefing_cases(), ids=lambda c: c["id"])
def test_every_briefing_case_draws_its_timeline_without_console_errors(browser, server, corpus_rag, case):
    filters = {k: str(case[k]) for k in ("source", "since", "until") if case.get(k)}
    visit(browser, server.url + "/" + link("brief", case.get("topic") or "", **filters))
    wait_briefing(browser)
    b = corpus_rag.brief(case.get("topic"), Filters(**{k: case.get(k) for k in ("source", "since", "until")}))
    assert len(event_marks(browser)) == len(b.timeline)
    dated = [s for s in b.sources if s.date]
    bars = browser.find_elements(By.CSS_SELECTOR, "#brief-pictures .coverage-picture .barlayer .point")
    assert len(bars) == len({(s.outlet, s.date) for s in dated})
    assert console_errors(browser) == []


def test_a_mark_shows_its_citations_and_opens_them(browser, server, corpus_rag):
    b = corpus_rag.brief(TOPIC)
    assert b.timeline and len(b.episodes) >= 1
    visit(browser, server.url + "/" + link("brief", TOPIC))
    wait_briefing(browser)
    marks = event_marks(browser)
    ActionChains(browser).move_to_element(marks[-1]).click().perform()
    box = browser.find_element(By.CSS_SELECTOR, "#brief-pictures .mark-box")
    WebDriverWait(browser, 30).until(lambda d: box.is_displayed())
    heading = text(box.find_element(By.CSS_SELECTOR, ".mark-heading"))
    event = next(e for e in b.timeline if heading == " ".join(f"{e.when} — {e.text}".split()))
    buttons = box.find_elements(By.CSS_SELECTOR, "button.cite")
    assert [int(x.get_attribute("data-n")) for x in buttons] == event.citations
    buttons[0].click()
    cited = b.citations[event.citations[0] - 1]
    settled(browser).until(lambda d: viewer_source(d) == cited.source
                           and highlighted_lines(d) == list(range(cited.line_start, cited.line_end + 1)))
    sides = sum(1 for d in b.disagreements for s in d.sides if s.date)
    assert sides and len(browser.find_elements(By.CSS_SELECTOR, "#brief-pictures .tracedisagree .point")) == sides


def test_rag_brief_html_saves_the_same_pictures(browser, cli, corpus_store, tmp_path, corpus_rag):
    out = tmp_path / "brief.html"
    code, stdout, stderr = cli("brief", TOPIC, "--format", "html", "--store-dir", str(corpus_store))
    assert code == 0, stderr
    out.write_text(stdout, encoding="utf-8")
    browser.get(out.as_uri())
    WebDriverWait(browser, 60).until(lambda d: event_marks(d, "#pictures"))
    assert len(event_marks(browser, "#pictures")) == len(corpus_rag.brief(TOPIC).timeline)
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []  # plotly.js and the drawing are inside the file
    assert console_errors(browser) == []


# --- the article pane, keys, phones --------------------------------------------------------------

def test_the_pane_follows_the_current_answer_and_closes_on_a_switch(browser, server, corpus_rag):
    first, second = corpus_rag.ask(QUESTION), corpus_rag.ask(OTHER)
    visit(browser, server.url + "/" + link("q", QUESTION))
    wait_answer(browser)
    last = first.citations[-1]
    browser.find_element(By.CSS_SELECTOR, f"#citations-{last.n} a.where").click()
    WebDriverWait(browser, 30).until(lambda d: viewer_source(d) == last.source)
    box = browser.find_element(By.ID, "question")
    box.clear()
    box.send_keys(OTHER + Keys.ENTER)
    settled(browser, WAIT).until(lambda d: sentences(d) == expected_sentences(second))
    cited = second.citations[0]
    settled(browser).until(lambda d: viewer_source(d) == cited.source
                           and highlighted_lines(d) == list(range(cited.line_start, cited.line_end + 1)))
    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="brief-view"]').click()
    assert not shown(browser, "viewer")


def test_keys_step_through_the_citations(browser, server, corpus_rag):
    answer = corpus_rag.ask(QUESTION)
    assert len(answer.citations) >= 2
    visit(browser, server.url + "/" + link("q", QUESTION))
    wait_answer(browser)
    body = browser.find_element(By.TAG_NAME, "body")
    for key, n in (("j", 1), ("j", 2), ("k", 1), ("[", len(answer.citations))):
        body.send_keys(key)
        c = answer.citations[n - 1]
        settled(browser).until(lambda d, c=c: viewer_source(d) == c.source
                               and highlighted_lines(d) == list(range(c.line_start, c.line_end + 1)))
        assert browser.find_element(By.CSS_SELECTOR, f"#citations-{n} a.where").get_attribute("class").endswith("current")
    body.send_keys(Keys.ESCAPE)
    assert not shown(browser, "viewer")


def test_a_long_article_title_wraps_in_the_pane(browser, server):
    source = "002_5cca6cf56978dda1.txt"  # its title is a whole sentence
    visit(browser, f"{server.url}/#doc={source}:3-4")
    WebDriverWait(browser, 30).until(lambda d: viewer_source(d) == source)
    title = browser.find_element(By.ID, "doc-title")
    width, scroll, height = browser.execute_script("const t = arguments[0]; return [t.clientWidth, t.scrollWidth, t.clientHeight]", title)
    assert scroll <= width and height > 30  # several lines, nothing cut off


def no_sideways_scroll(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_page_is_readable_on_a_phone(browser, server, corpus_rag):
    browser.set_window_size(390, 844)
    visit(browser, server.url + "/" + link("q", QUESTION))
    wait_answer(browser)
    assert browser.execute_script("return window.innerWidth") <= 390 and no_sideways_scroll(browser)
    width = browser.execute_script("return document.documentElement.clientWidth")
    answer = corpus_rag.ask(QUESTION)
    browser.find_element(By.CSS_SELECTOR, f"#citations-{answer.citations[0].n} a.where").click()
    WebDriverWait(browser, 30).until(lambda d: viewer_source(d) == answer.citations[0].source)
    pane = browser.find_element(By.ID, "viewer").rect
    assert pane["x"] == 0 and pane["width"] == width and no_sideways_scroll(browser)  # the pane covers the screen
    browser.find_element(By.ID, "close-viewer").click()
    browser.find_element(By.CSS_SELECTOR, '.tab[data-view="sources-view"]').click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sources-rows tr"))
    assert no_sideways_scroll(browser)
    visit(browser, server.url + "/" + link("brief", TOPIC))
    wait_briefing(browser)
    assert no_sideways_scroll(browser)
    plot = browser.find_element(By.CSS_SELECTOR, "#brief-pictures .timeline-picture .plot").rect
    assert plot["width"] <= width
    assert console_errors(browser) == []
