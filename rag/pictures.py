"""A briefing's pictures (timeline and coverage) in a self-contained HTML page.

The drawing is one JavaScript function, rag/server/static/timeline.js, which the web page loads
too; plotly.js comes from the installed `plotly` package (its package data), so nothing is
fetched from the network, either when the page is served or when a saved briefing is opened.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from rag.errors import RagError
from rag.models import Briefing

TIMELINE_JS = Path(__file__).parent / "server" / "static" / "timeline.js"
_SECTION = '<section id="pictures" class="pictures"></section>'
# What the drawing reads (timings and the rest would make the same briefing's page differ).
_DRAWN = {"timeline", "episodes", "disagreements", "sources", "citations"}


def plotly_js() -> Path:
    """plotly.min.js of the installed plotly package (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RagError("the briefing pictures need the plotly package: pip install plotly")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise RagError(f"the plotly package has no {path.name}; reinstall it")
    return path


def with_pictures(page: str, briefing: Briefing) -> str:
    """`page` (an HTML briefing) with the pictures drawn after its heading and scope line, by
    plotly.js and timeline.js inlined at the end of its body. A mark's citation links to the
    page's own citation list (#cN)."""
    data = _script_json(briefing.model_dump(mode="json", include=_DRAWN))
    scripts = (f"<script>{_script_text(plotly_js().read_text(encoding='utf-8'))}</script>\n"
               f"<script>{_script_text(TIMELINE_JS.read_text(encoding='utf-8'))}</script>\n"
               f"<script>drawBriefingPictures(document.getElementById('pictures'), {data}, "
               "{onCite: (n) => { location.hash = 'c' + n; }});</script>\n")
    style = ("<style>.pictures figure { margin: 1rem 0; } .pictures figcaption { color: #666; font-size: .9em; }"
             " .mark-citations { list-style: none; padding: 0; } .mark-citations q { display: block; color: #333; }"
             " button.cite { background: none; border: none; color: #0b5fff; cursor: pointer; padding: 0; font: inherit; }"
             "</style>")
    marker = '<h2>Summary</h2>'
    head, found, tail = page.partition(marker)
    body = head + _SECTION + found + tail if found else page.replace("</body>", _SECTION + "</body>", 1)
    return body.replace("</head>", style + "</head>", 1).replace("</body>", scripts + "</body>", 1)


def _script_json(value) -> str:
    # Inside <script>, "</script>" or "<!--" in an article's text would end or change the script.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _script_text(code: str) -> str:
    if "</script" in code.lower():
        code = code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return code
