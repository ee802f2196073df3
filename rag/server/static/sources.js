// The sources panel: every indexed article (title, outlet, date, size), a page at a time from
// GET /sources, filtered and sorted by the server's docstore. Articles ticked here scope every
// question and briefing (the API's `sources` filter) until the selection is cleared.
"use strict";

const sources = { offset: 0, limit: 50, total: 0, selected: new Set(), loaded: false, timer: null };
const MAX_SELECTED = 1000;  // the API's limit on `sources`

function sourceScope() {
  return sources.selected.size ? { sources: [...sources.selected] } : {};
}

function setSelection(list) {
  sources.selected = new Set(list.slice(0, MAX_SELECTED));
  selectionChanged();
}

function sourcesParams(extra = {}) {
  const params = new URLSearchParams({ offset: sources.offset, limit: sources.limit, sort: $("sources-sort").value, ...extra });
  const q = $("sources-q").value.trim();
  if (q) params.set("q", q);
  if ($("sources-outlet").value) params.set("outlet", $("sources-outlet").value === "\u0000" ? "" : $("sources-outlet").value);
  if ($("sources-since").value) params.set("since", $("sources-since").value);
  if ($("sources-until").value) params.set("until", $("sources-until").value);
  return params;
}

async function loadSources() {
  try {
    const page = await (await api("/sources?" + sourcesParams())).json();
    sources.total = page.total;
    sources.loaded = true;
    renderSourceRows(page);
  } catch (err) {
    $("sources-summary").textContent = err.message;
  }
}

function sizeText(chars) {
  return chars >= 1000 ? `${(chars / 1000).toFixed(1)}k chars` : `${chars} chars`;
}

function renderSourceRows(page) {
  const rows = page.sources.map((s) => {
    const box = el("input", { type: "checkbox", checked: sources.selected.has(s.source), dataset: { source: s.source } });
    box.setAttribute("aria-label", `select ${s.title || s.source}`);
    box.addEventListener("change", () => {
      if (box.checked && sources.selected.size < MAX_SELECTED) sources.selected.add(s.source);
      else { sources.selected.delete(s.source); box.checked = false; }
      selectionChanged();
    });
    const open = el("button", { type: "button", class: "link", textContent: s.title || s.source });
    open.addEventListener("click", () => openDocument(s.source, 0, 0));
    return el("tr", { dataset: { source: s.source } },
      el("td", {}, box),
      el("td", { class: "title" }, open, el("div", { class: "muted file", textContent: s.source })),
      el("td", { textContent: s.outlet || "—" }),
      el("td", { class: "nowrap", textContent: s.date || "no date" }),
      el("td", { class: "nowrap", textContent: sizeText(s.chars) }));
  });
  $("sources-rows").replaceChildren(...rows);
  const last = Math.min(page.offset + page.sources.length, page.total);
  $("sources-range").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total.toLocaleString("en-US")}` : "no articles match";
  $("sources-prev").disabled = page.offset === 0;
  $("sources-next").disabled = last >= page.total;
}

function selectionChanged() {
  const n = sources.selected.size;
  $("selected-count").hidden = !n;
  $("selected-count").textContent = String(n);
  $("sources-summary").textContent = n ? `${n} selected` : "none selected: questions and briefings read every article";
  for (const id of ["ask-scope", "brief-scope"]) {
    const chip = $(id);
    chip.hidden = !n;
    if (!n) { chip.replaceChildren(); continue; }
    const clear = el("button", { type: "button", class: "link", textContent: "clear" });
    clear.addEventListener("click", () => setSelection([]));
    chip.replaceChildren(`Scoped to ${n} selected article${n === 1 ? "" : "s"} `, clear);
  }
  for (const box of document.querySelectorAll("#sources-rows input[type=checkbox]")) box.checked = sources.selected.has(box.dataset.source);
}

async function selectAllMatching() {
  const page = await (await api("/sources?" + sourcesParams({ offset: 0, limit: MAX_SELECTED }))).json();
  for (const s of page.sources) if (sources.selected.size < MAX_SELECTED) sources.selected.add(s.source);
  selectionChanged();
  if (page.total > MAX_SELECTED) $("sources-summary").textContent += ` (the first ${MAX_SELECTED} of ${page.total} matching)`;
}

// What the corpus holds, on the Ask view and in the panel's outlet list (one small request).
async function loadOverview() {
  try {
    const page = await (await api("/sources?limit=1&facets=true")).json();
    const outlets = page.outlets.filter((o) => o.outlet);
    const when = page.first ? ` from ${page.first} to ${page.last}` : "";
    const browse = el("button", { type: "button", class: "link", textContent: "browse the sources" });
    browse.addEventListener("click", () => showView("sources-view"));
    $("overview").replaceChildren(`${page.total.toLocaleString("en-US")} articles` +
      (outlets.length ? ` from ${outlets.length} outlet${outlets.length === 1 ? "" : "s"}` : "") + `${when} · `, browse);
    const select = $("sources-outlet");
    select.replaceChildren(el("option", { value: "", textContent: "any" }),
      ...page.outlets.map((o) => el("option", { value: o.outlet ?? "\u0000", textContent: `${o.outlet ?? "no outlet"} (${o.articles})` })));
    if (page.first) for (const id of ["sources-since", "sources-until"]) Object.assign($(id), { min: page.first, max: page.last });
  } catch (_) { /* loadStatus already says why there is no index */ }
}

function reloadSourcesSoon() {
  clearTimeout(sources.timer);
  sources.timer = setTimeout(() => { sources.offset = 0; loadSources(); }, 250);
}

$("sources-form").addEventListener("submit", (event) => { event.preventDefault(); sources.offset = 0; loadSources(); });
$("sources-q").addEventListener("input", reloadSourcesSoon);
for (const id of ["sources-outlet", "sources-since", "sources-until", "sources-sort"]) $(id).addEventListener("change", reloadSourcesSoon);
$("sources-prev").addEventListener("click", () => { sources.offset = Math.max(0, sources.offset - sources.limit); loadSources(); });
$("sources-next").addEventListener("click", () => { sources.offset += sources.limit; loadSources(); });
$("sources-select-all").addEventListener("click", selectAllMatching);
$("sources-clear").addEventListener("click", () => setSelection([]));
$("sources-ask").addEventListener("click", () => { showView("ask-view"); $("question").focus(); });
$("sources-brief").addEventListener("click", () => {
  showView("brief-view");
  $("brief-form").requestSubmit();
});
document.querySelector('.tab[data-view="sources-view"]').addEventListener("click", () => { if (!sources.loaded) loadSources(); });
selectionChanged();
loadOverview();
