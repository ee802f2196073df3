"""Markdown and HTML renderings of a Briefing. Both come from the model alone, so they agree.

Markers [n] point at the numbered citations at the end (file:lines and the quote). When the
briefing has several episodes, each line says which one (E1, E2 ...), so separate events stay
visibly separate. Everything from an article is escaped in HTML.
"""

from __future__ import annotations

import html

from rag.answer.citations import markers, where
from rag.models import BriefEvent, Briefing, BriefPoint, BriefQuote, Disagreement, NewArticle
from rag.pictures import with_pictures

_UNSUPPORTED = " (UNSUPPORTED by its citations)"


def _episode_tag(b: Briefing, episode: int | None) -> str:
    return f"E{episode} " if len(b.episodes) > 1 and episode else ""


def _title(b: Briefing) -> str:
    return f"Briefing: {b.topic}" if b.topic else "Briefing: the whole corpus"


def _scope(b: Briefing) -> str:
    parts = [f"{len(b.sources)} sources"]
    if b.source_filter:
        parts.append(f"source {b.source_filter}")
    if b.since or b.until:
        parts.append(f"dates {b.since or '…'} to {b.until or '…'}")
    if b.new_since:
        parts.append(f"only what is new since {b.new_since_briefing or b.new_since}")
    parts.append(f"engine {b.engine}" + (f" ({b.model})" if b.model else ""))
    return " · ".join(parts)


def _episode_line(e) -> str:
    when = (f"{e.start}" + (f" to {e.end}" if e.end and e.end != e.start else "")) if e.start else "date unknown"
    return f"E{e.n} — {e.label} ({when}; {len(e.sources)} source{'s' if len(e.sources) != 1 else ''})"


def _point(b: Briefing, p: BriefPoint) -> str:
    text = f"{_episode_tag(b, p.episode)}{p.text} {markers(p.citations)}{'' if p.supported else _UNSUPPORTED}".strip()
    return text + previous_value(p)


def previous_value(p: BriefPoint) -> str:
    """' (previously: 9 deaths [4] (2022-10-18))' for a --new-since figure that updates an earlier one."""
    return f" (previously: {p.previous})" if p.previous else ""


def article_line(a: NewArticle) -> str:
    """'2022-06-09 · USA Today — PGA Tour suspends LIV Golf players (articles.jsonl#01447f)'."""
    where = " · ".join(x for x in (a.date.isoformat() if a.date else "no date", a.outlet) if x)
    return f"{where} — {a.title or a.source}" + (f" ({a.source})" if a.title else "")


def shown_line(a: NewArticle) -> str:
    """'3 of its 9 new statements shown': how much of the article's new material the digest gives."""
    return f"{len(a.points)} of its {a.found} new statement{'s' if a.found != 1 else ''} shown"


def relative_note(e: BriefEvent) -> str:
    """' (“Monday” in an article of Friday 2022-09-23)': the article's own date beside a date
    read relative to it, so the reader can check the reading."""
    if e.relative_to is None:
        return ""
    written = f"“{e.expression}” in " if e.expression else ""
    return f" ({written}an article of {e.relative_to.strftime('%A')} {e.relative_to.isoformat()})"


def _event(b: Briefing, e: BriefEvent) -> str:
    return (f"**{e.when}**{relative_note(e)} {_episode_tag(b, e.episode)}— {e.text} {markers(e.citations)}"
            + ("" if e.supported else _UNSUPPORTED))


def _quote(b: Briefing, q: BriefQuote) -> str:
    who = q.speaker or "unattributed"
    return f"{_episode_tag(b, q.episode)}**{who}**: “{q.words}” {markers(q.citations)}" + ("" if q.supported else _UNSUPPORTED)


def side_sources(side) -> str:
    """' — Reuters, AP, 2022-10-01; latest': who gives a figure, the latest date it was given."""
    parts = [x for x in (side.outlet, side.date.isoformat() if side.date else None) if x]
    where = ", ".join(parts)
    return f" — {'; '.join(p for p in (where, 'latest' if side.latest else '') if p)}" if parts or side.latest else ""


def _disagreement_lines(b: Briefing, d: Disagreement) -> list[str]:
    tally = " (a running tally: the latest dated figure first)" if d.tally else ""
    lines = [f"- {_episode_tag(b, d.episode)}**{d.about}**{tally}:"]
    lines += [f"  - {side.value} {markers(side.citations)}{side_sources(side)}" for side in d.sides]
    return lines


def to_markdown(b: Briefing) -> str:
    out = [f"# {_title(b)}", "", f"_{_scope(b)}_", ""]
    if len(b.episodes) > 1:
        out += ["Separate episodes (never merged):", ""] + [f"- {_episode_line(e)}" for e in b.episodes] + [""]
    out += ["## Summary", "", " ".join(_point(b, p) for p in b.summary) or "_Nothing to summarise._", ""]
    out += ["## Key facts", ""] + [f"- {_point(b, p)}" for p in b.key_facts] + [""]
    if b.new_articles:
        out += ["## What each new article adds", ""]
        for a in b.new_articles:
            out += [f"### {article_line(a)}", ""] + [f"- {_point(b, p)}" for p in a.points]
            out += [f"- _{shown_line(a)}_", ""]
    out += ["## Timeline", ""] + ([f"- {_event(b, e)}" for e in b.timeline] or ["_No dated events._"]) + [""]
    out += ["## Who said what", ""] + ([f"- {_quote(b, q)}" for q in b.quotes] or ["_No attributed quotations._"]) + [""]
    out += ["## Where sources disagree", ""]
    out += [line for d in b.disagreements for line in _disagreement_lines(b, d)] or ["_No disagreement found._"]
    out += ["", "## Sources", "", "| File | Title | Outlet | Date | Episode | Cited |", "|---|---|---|---|---|---|"]
    for s in b.sources:
        title = (s.title or "").replace("|", "\\|")
        note = f" ({s.note})" if s.note else ""
        out.append(f"| {s.source} | {title} | {s.outlet or '—'} | {s.date or 'no date'}{note} | "
                   f"{f'E{s.episode}' if s.episode else '—'} | {s.cited} |")
    out += ["", "## Citations", ""]
    out += [f"[{c.n}] {where(c)} — “{' '.join(c.quote.split())}”" for c in b.citations]
    if b.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in b.notes]
    return "\n".join(out) + "\n"


def to_html(b: Briefing) -> str:
    e = html.escape

    def marks(numbers: list[int]) -> str:
        return "".join(f'<a class="cite" href="#c{n}">[{n}]</a>' for n in numbers)

    def tag(episode: int | None) -> str:
        return f'<span class="ep">E{episode}</span> ' if len(b.episodes) > 1 and episode else ""

    def flag(supported: bool) -> str:
        return "" if supported else ' <span class="unsupported">UNSUPPORTED by its citations</span>'

    def point(p: BriefPoint) -> str:
        return f"{tag(p.episode)}{e(p.text)} {marks(p.citations)}{flag(p.supported)}{e(previous_value(p))}"

    parts = [f"<h1>{e(_title(b))}</h1>", f'<p class="scope">{e(_scope(b))}</p>']
    if len(b.episodes) > 1:
        parts.append("<p>Separate episodes (never merged):</p><ul>"
                     + "".join(f"<li>{e(_episode_line(x))}</li>" for x in b.episodes) + "</ul>")
    parts.append("<h2>Summary</h2><p>" + " ".join(point(p) for p in b.summary) + "</p>")
    parts.append("<h2>Key facts</h2><ul>" + "".join(f"<li>{point(p)}</li>" for p in b.key_facts) + "</ul>")
    if b.new_articles:
        parts.append("<h2>What each new article adds</h2>" + "".join(
            f"<h3>{e(article_line(a))}</h3><ul>" + "".join(f"<li>{point(p)}</li>" for p in a.points)
            + f'<li class="scope">{e(shown_line(a))}</li></ul>' for a in b.new_articles))
    parts.append("<h2>Timeline</h2><ul>" + "".join(
        f"<li><b>{e(x.when)}</b>{e(relative_note(x))} {tag(x.episode)}— {e(x.text)} {marks(x.citations)}"
        f"{flag(x.supported)}</li>"
        for x in b.timeline) + "</ul>")
    parts.append("<h2>Who said what</h2><ul>" + "".join(
        f"<li>{tag(q.episode)}<b>{e(q.speaker or 'unattributed')}</b>: “{e(q.words)}” {marks(q.citations)}"
        f"{flag(q.supported)}</li>" for q in b.quotes) + "</ul>")
    parts.append("<h2>Where sources disagree</h2><ul>" + "".join(
        f"<li>{tag(d.episode)}<b>{e(d.about)}</b>{e(' (a running tally: the latest dated figure first)' if d.tally else '')}<ul>"
        + "".join(f"<li>{e(s.value)} {marks(s.citations)}{e(side_sources(s))}</li>" for s in d.sides) + "</ul></li>"
        for d in b.disagreements) + "</ul>")
    rows = "".join(
        f"<tr><td>{e(s.source)}</td><td>{e(s.title or '')}</td><td>{e(s.outlet or '—')}</td>"
        f"<td>{e(str(s.date or 'no date'))}{e(f' ({s.note})' if s.note else '')}</td>"
        f"<td>{f'E{s.episode}' if s.episode else '—'}</td><td>{s.cited}</td></tr>" for s in b.sources)
    parts.append("<h2>Sources</h2><table><tr><th>File</th><th>Title</th><th>Outlet</th><th>Date</th>"
                 f"<th>Episode</th><th>Cited</th></tr>{rows}</table>")
    parts.append("<h2>Citations</h2><ol class=\"citations\">" + "".join(
        f'<li id="c{c.n}" value="{c.n}"><code>{e(where(c))}</code> “{e(" ".join(c.quote.split()))}”</li>'
        for c in b.citations) + "</ol>")
    if b.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in b.notes) + "</ul>")
    return _PAGE.format(title=e(_title(b)), body="\n".join(parts))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
.cite {{ font-size: .8em; text-decoration: none; }} .ep {{ font-size: .75em; background: #eef; padding: 0 .3em; }}
.unsupported {{ color: #b00; font-size: .8em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .2rem .4rem; text-align: left; vertical-align: top; }}
.scope {{ color: #666; }} code {{ font-size: .85em; }}
</style></head><body>
{body}
</body></html>
"""


def render(b: Briefing, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(b)
    if fmt == "html":
        return with_pictures(to_html(b), b)
    return b.model_dump_json(indent=2) + "\n"
