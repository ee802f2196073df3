// The web page: renders the same Answer JSON `rag ask --json` prints. No framework, no network
// beyond this server. Every piece of data is inserted as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

// ---- talking to the API ----------------------------------------------------------------------

function authHeaders() {
  const token = localStorage.getItem("rag-token");
  return token ? { Authorization: "Bearer " + token } : {};
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// X-Rag-Client: uploads need a header that a form on another site cannot send (rag/server/guard.py).
async function api(path, options = {}) {
  const headers = { "X-Rag-Client": "web", ...authHeaders(), ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) throw await apiError(response);
  return response;
}

async function apiError(response) {
  let message = response.statusText || "request failed";
  try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
  if (response.status === 401) $("token-box").hidden = false;
  return new ApiError(response.status, message);
}

// Source names may hold "/", "#" and spaces: encode each path segment, keep the slashes.
function documentUrl(source) {
  return "/documents/" + source.split("/").map(encodeURIComponent).join("/");
}

// ---- Server-Sent Events over POST (EventSource only does GET) --------------------------------

async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      yield { name, data: JSON.parse(data.join("\n")) };
    }
  }
}

// ---- asking ----------------------------------------------------------------------------------

function askBody() {
  const body = { question: $("question").value.trim(), stream: true };
  const k = $("k").value, engine = $("engine").value, source = $("source").value.trim();
  if (k) body.k = Number(k);
  if (engine) body.engine = engine;
  if (source) body.source = source;
  if ($("since").value) body.since = $("since").value;
  if ($("until").value) body.until = $("until").value;
  if ($("show-unsupported").checked) body.show_unsupported = true;
  return Object.assign(body, sourceScope(), newsroomAskFields());  // sources.js selection; newsroom.js: thread history, as-of
}

async function ask(event) {
  event.preventDefault();
  const body = askBody();
  if (!body.question) return;
  if (!event.fromLink) rememberAsked("q", body.question, body);
  showError(null);
  $("answer").hidden = true;
  $("draft").textContent = "";
  $("draft").hidden = true;
  $("working").hidden = false;
  $("ask-button").disabled = true;
  try {
    const response = await api("/ask", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    for await (const { name, data } of sseEvents(response)) {
      if (name === "token") {
        $("draft").hidden = false;
        $("draft").textContent += data.text;
      } else if (name === "answer") {
        renderAnswer(data);
      } else if (name === "error") {
        throw new ApiError(data.status, data.error);
      }
    }
  } catch (err) {
    showError(err.message);
  } finally {
    $("working").hidden = true;
    $("draft").hidden = true;
    $("ask-button").disabled = false;
  }
}

function showError(message, box = "error") {
  $(box).hidden = !message;
  $(box).textContent = message || "";
}

// ---- rendering an Answer (the same object and order as rag/render.py:answer_text) -------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function citeButton(n, citations) {
  const button = el("button", { type: "button", class: "cite", textContent: `[${n}]`, dataset: { n: String(n) } });
  button.addEventListener("click", () => openCitation(citations, n));
  return button;
}

function weekday(isoDate) {  // "2020-12-23" → "Wednesday", as rag/brief/render.py writes it
  return new Date(`${isoDate}T00:00:00Z`).toLocaleDateString("en-US", { weekday: "long", timeZone: "UTC" });
}

function citeButtons(node, numbers, citations) {
  for (const n of numbers) node.append(citeButton(n, citations));
  return node;
}

function citationList(list, citations) {
  list.replaceChildren();
  for (const c of citations.values()) {
    const link = el("a", { href: "#", class: "cite where", textContent: `[${c.n}] ${where(c)}`, dataset: { n: String(c.n) } });
    link.addEventListener("click", (e) => { e.preventDefault(); openCitation(citations, c.n); });
    const about = [c.title, c.outlet, c.date || "no date"].filter(Boolean).join(" · ");
    list.append(el("li", { id: `${list.id}-${c.n}` }, link, " ", el("span", { class: "muted", textContent: about }),
      el("q", { textContent: c.quote })));
  }
}

function where(c) {
  return `${c.source}:${c.line_start}` + (c.line_end !== c.line_start ? `-${c.line_end}` : "");
}

function renderAnswer(answer) {
  const cites = new Map(answer.citations.map((c) => [c.n, c]));
  $("answer").hidden = false;
  $("answer").dataset.refused = String(answer.refused);
  $("refusal").hidden = !answer.refused;
  $("refusal-text").textContent = answer.refused ? answer.answer : "";
  $("refusal-reason").textContent = answer.refused && answer.refusal_reason ? "Why: " + answer.refusal_reason : "";
  const rejected = answer.refused ? answer.rejected : null;
  $("rejected").hidden = !rejected;
  $("rejected").textContent = rejected ? `Rejected model output (${rejected.reason}): ${rejected.text}` : "";

  const sentences = $("sentences");
  sentences.replaceChildren();
  if (!answer.refused) {
    for (const s of answer.sentences) {
      const p = el("p", { class: "sentence" + (s.supported ? "" : " unsupported") }, el("span", { class: "text", textContent: s.text }), " ");
      citeButtons(p, s.citations, cites);
      if (!s.supported) p.append(" ", el("span", { class: "flag", textContent: "(unsupported by its citation)" }));
      if (s.note) p.append(" ", el("span", { class: "note muted", textContent: "(" + s.note + ")" }));
      if (s.recited_from) {
        const cited = s.recited_from.join(", ") || "no source of its context";
        p.append(" ", el("span", { class: "flag recited", textContent: `(re-cited: the model cited ${cited})` }));
      }
      sentences.append(p);
    }
  }

  const conflicts = $("conflicts");
  conflicts.replaceChildren();
  for (const conflict of answer.conflicts) {
    const grouped = new Map();
    for (const claim of conflict.claims) {
      const key = claim.value.toLowerCase();
      if (!grouped.has(key)) grouped.set(key, []);
      grouped.get(key).push(claim);
    }
    const list = el("ul");
    for (const [value, claims] of grouped) {
      const item = el("li", { class: "claim" }, el("span", { class: "value", textContent: value }), " ");
      citeButtons(item, claims.map((c) => c.citation), cites);
      const where = [...new Set(claims.map((c) => [c.outlet, c.date].filter(Boolean).join(" ")).filter(Boolean))];
      const note = [where.join(", "), claims.some((c) => c.latest) ? "latest" : ""].filter(Boolean).join("; ");
      if (note) item.append(el("span", { class: "muted source", textContent: ` — ${note}` }));
      list.append(item);
    }
    const tally = conflict.tally ? " (a running tally: the latest dated figure first)" : "";
    conflicts.append(el("div", { class: "conflict" },
      el("h3", { textContent: `Sources disagree on the number of ${conflict.about}${tally}:` }), list));
  }

  $("citations-heading").hidden = answer.citations.length === 0;
  citationList($("citations"), cites);

  $("notes").replaceChildren(...answer.notes.map((note) => el("li", { textContent: `note: ${note}` })));
  const seconds = Object.values(answer.timings).reduce((a, b) => a + b, 0);
  $("meta").textContent = `engine ${answer.engine}` + (answer.model ? ` (${answer.model})` : "") +
    ` · settings ${answer.settings_hash} · ${seconds.toFixed(2)}s`;
  followAnswer(cites, answer);
  newsroomRenderAnswer(answer);  // newsroom.js: rewrite, evidence dates, thread
}

// ---- briefings (the same Briefing JSON and order as rag/brief/render.py) -------------------------

function briefBody() {
  const body = {};
  const topic = $("topic").value.trim(), engine = $("brief-engine").value, source = $("brief-source").value.trim();
  if (topic) body.topic = topic;
  if (engine) body.engine = engine;
  if (source) body.source = source;
  if ($("brief-since").value) body.since = $("brief-since").value;
  if ($("brief-until").value) body.until = $("brief-until").value;
  return Object.assign(body, sourceScope(), newsroomBriefFields());  // sources.js selection; newsroom.js: new since
}

async function brief(event) {
  event.preventDefault();
  if (!event.fromLink) rememberAsked("brief", $("topic").value.trim(), briefBody());
  showError(null, "brief-error");
  $("briefing").hidden = true;
  $("brief-working").hidden = false;
  $("brief-button").disabled = true;
  try {
    const response = await api("/brief", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(briefBody()),
    });
    renderBriefing(await response.json());
  } catch (err) {
    showError(err.message, "brief-error");
  } finally {
    $("brief-working").hidden = true;
    $("brief-button").disabled = false;
  }
}

function renderBriefing(b) {
  const cites = new Map(b.citations.map((c) => [c.n, c]));
  const several = b.episodes.length > 1;
  const tag = (episode) => (several && episode ? [el("span", { class: "ep", textContent: `E${episode}` }), " "] : []);
  const flag = (supported) => (supported ? [] : [" ", el("span", { class: "flag", textContent: "(unsupported by its citations)" })]);
  // One line of a section: its parts, then the [n] markers, then the unsupported flag.
  const cited = (node, parts, item) => {
    node.append(...tag(item.episode), ...parts, " ");
    citeButtons(node, item.citations, cites).append(...flag(item.supported));
    return node;
  };
  const point = (node, p) => {
    cited(node, [el("span", { class: "text", textContent: p.text })], p);
    if (p.previous) node.append(" ", el("span", { class: "muted previous", textContent: `(previously: ${p.previous})` }));
    return node;
  };
  const section = (title, cls, items, empty) => {
    const list = el("ul", { class: cls });
    list.append(...items);
    return [el("h3", { textContent: title }), items.length ? list : el("p", { class: "muted", textContent: empty })];
  };
  const scope = [`${b.sources.length} sources`];
  if (b.source_filter) scope.push(`source ${b.source_filter}`);
  if (b.since || b.until) scope.push(`dates ${b.since || "…"} to ${b.until || "…"}`);
  if (b.new_since) scope.push(`only what is new since ${b.new_since_briefing || b.new_since}`);
  scope.push(`engine ${b.engine}` + (b.model ? ` (${b.model})` : ""));

  const pictures = el("div", { id: "brief-pictures", class: "pictures" });
  const parts = [el("h2", { textContent: b.topic ? `Briefing: ${b.topic}` : "Briefing: the whole corpus" }),
    el("p", { class: "muted scope", textContent: scope.join(" · ") }), pictures];
  if (several) {
    const list = el("ul", { class: "episodes" });
    for (const e of b.episodes) {
      const when = e.start ? e.start + (e.end && e.end !== e.start ? ` to ${e.end}` : "") : "date unknown";
      list.append(el("li", { textContent: `E${e.n} — ${e.label} (${when}; ${e.sources.length} source${e.sources.length !== 1 ? "s" : ""})` }));
    }
    parts.push(el("p", { textContent: "Separate episodes (never merged):" }), list);
  }
  const summary = el("p", { class: "summary" });
  b.summary.forEach((p, i) => { if (i) summary.append(" "); point(summary, p); });
  parts.push(el("h3", { textContent: "Summary" }), b.summary.length ? summary : el("p", { class: "muted", textContent: "Nothing to summarise." }));
  parts.push(...section("Key facts", "key-facts", b.key_facts.map((p) => point(el("li"), p)), "No key facts."));
  if ((b.new_articles || []).length) {
    // --new-since: each new article on the topic, with the new statements it adds, in its own order
    parts.push(el("h3", { textContent: "What each new article adds" }));
    for (const a of b.new_articles) {
      // the words of rag/brief/render.py article_line and shown_line
      const where = [a.date || "no date", a.outlet].filter(Boolean).join(" · ");
      const list = el("ul", { class: "new-article" }, ...a.points.map((p) => point(el("li"), p)),
        el("li", { class: "muted shown", textContent: `${a.points.length} of its ${a.found} new statement${a.found !== 1 ? "s" : ""} shown` }));
      parts.push(el("h4", { textContent: `${where} — ${a.title || a.source}` + (a.title ? ` (${a.source})` : "") }), list);
    }
  }
  parts.push(...section("Timeline", "timeline", b.timeline.map((e) =>
    cited(el("li", {}, el("b", { class: "when", textContent: e.when }),
      e.relative_to ? el("span", { class: "muted relative", textContent:
        ` (${e.expression ? `“${e.expression}” in ` : ""}an article of ${weekday(e.relative_to)} ${e.relative_to})` }) : "", " "),
      ["— ", el("span", { class: "text", textContent: e.text })], e)), "No dated events."));
  parts.push(...section("Who said what", "quotes", b.quotes.map((q) =>
    cited(el("li"), [el("b", { class: "speaker", textContent: q.speaker || "unattributed" }), ": ",
      el("span", { class: "words", textContent: `“${q.words}”` })], q)), "No attributed quotations."));
  parts.push(...section("Where sources disagree", "disagreements", b.disagreements.map((d) => {
    const sides = el("ul");
    for (const s of d.sides) {
      const item = citeButtons(el("li", { class: "side" }, el("span", { class: "value", textContent: s.value }), " "), s.citations, cites);
      const note = [[s.outlet, s.date].filter(Boolean).join(", "), s.latest ? "latest" : ""].filter(Boolean).join("; ");
      if (note) item.append(el("span", { class: "muted source", textContent: ` — ${note}` }));
      sides.append(item);
    }
    return el("li", {}, ...tag(d.episode), el("b", { class: "about", textContent: d.about }),
      d.tally ? " (a running tally: the latest dated figure first)" : "", sides);
  }), "No disagreement found."));

  const table = el("table", { class: "sources-table" },
    el("tr", {}, ...["File", "Title", "Outlet", "Date", "Episode", "Cited"].map((h) => el("th", { textContent: h }))));
  for (const s of b.sources) {
    table.append(el("tr", {}, ...[s.source, s.title || "", s.outlet || "—", (s.date || "no date") + (s.note ? ` (${s.note})` : ""),
      s.episode ? `E${s.episode}` : "—", String(s.cited)].map((v) => el("td", { textContent: v }))));
  }
  parts.push(el("h3", { textContent: "Sources" }), table);
  const list = el("ol", { id: "brief-citations", class: "citations" });
  citationList(list, cites);
  parts.push(el("h3", { textContent: "Citations" }), list);
  if (b.notes.length) parts.push(...section("Notes", "notes", b.notes.map((n) => el("li", { textContent: n })), ""));
  const seconds = Object.values(b.timings).reduce((x, y) => x + y, 0);
  parts.push(el("p", { class: "muted", textContent: `settings ${b.settings_hash} · ${seconds.toFixed(2)}s` }));
  $("briefing").replaceChildren(...parts);
  $("briefing").hidden = false;
  followAnswer(cites, b);
  drawPictures(pictures, b, cites);
}

function showView(id) {
  const changed = !$(id) || $(id).hidden;
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.view === id);
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
  if (changed) viewChanged(id);
}

// ---- the article viewer ----------------------------------------------------------------------

async function openCitation(citations, n) {
  const c = citations.get(n);
  if (!c) return;
  citationOpened(citations, n);
  await openDocument(c.source, c.line_start, c.line_end);
}

async function openDocument(source, start, end) {
  try {
    const passage = await (await api(documentUrl(source))).json();
    renderDocument(passage, start, end);
    if (!askedInAddress()) history.replaceState(null, "", `#doc=${encodeURIComponent(source)}:${start}-${end}`);
  } catch (err) {
    showError(err.message);
  }
}

function renderDocument(passage, start, end) {
  $("viewer").hidden = false;
  document.querySelector("main").classList.add("with-viewer");
  $("doc-title").textContent = passage.title || passage.source;
  $("doc-meta").textContent = [passage.source, passage.outlet, passage.date].filter(Boolean).join(" · ");
  const dropped = new Map(passage.dropped.map((d) => [d.line, d.reason]));
  const lines = $("doc-lines");
  lines.replaceChildren();
  passage.lines.forEach((text, i) => {
    const number = passage.line_start + i;
    const classes = ["line"];
    if (number >= start && number <= end) classes.push("hl");
    if (dropped.has(number)) classes.push("dropped");
    const item = el("li", { class: classes.join(" "), dataset: { line: String(number) } },
      el("span", { class: "no", textContent: String(number) }), el("span", { class: "text", textContent: text }));
    if (dropped.has(number)) item.title = `dropped by the cleaner: ${dropped.get(number)}`;
    lines.append(item);
  });
  const first = lines.querySelector("li.hl");
  if (first) first.scrollIntoView({ block: "center" });
  else $("viewer").scrollTop = 0;
}

function closeViewer() {
  $("viewer").hidden = true;
  document.querySelector("main").classList.remove("with-viewer");
  if (!askedInAddress()) history.replaceState(null, "", location.pathname);
}

// ---- start-up --------------------------------------------------------------------------------

async function loadStatus() {
  try {
    const status = await (await api("/status")).json();
    $("index-status").textContent = `${status.documents} documents · ${status.chunks} chunks · ${status.embedding_model || "no model"}`;
  } catch (err) {
    $("index-status").textContent = err.status === 503 ? "no index yet: run an ingest" : "";
  }
}

function openFromHash() {
  const m = /^#doc=(.+):(\d+)-(\d+)$/.exec(location.hash);
  if (m) openDocument(decodeURIComponent(m[1]), Number(m[2]), Number(m[3]));
  return Boolean(m);
}

$("ask-form").addEventListener("submit", ask);
$("brief-form").addEventListener("submit", brief);
for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
$("close-viewer").addEventListener("click", closeViewer);
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem("rag-token", $("token").value);
  $("token-box").hidden = true;
  loadStatus();
});
loadStatus();
// Links (#q=, #brief=, #doc=), suggestions and the sources panel: links.js, suggest.js, sources.js.
