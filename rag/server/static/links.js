// Links that ask: #q=<question> and #brief=<topic> (with since, until, source, engine, k and
// sources) run on load, so an answer can be shared as a URL. Each question asked is a history
// entry: the browser's back button steps through earlier questions (answers already shown are
// drawn again from memory, not asked again). #doc=SOURCE:START-END opens an article's lines.
"use strict";

const links = { shown: new Map(), routed: null };
const LINK_KEYS = ["source", "since", "until", "engine", "k"];

function askedInAddress() {
  return /^#(q|brief)=/.test(location.hash);
}

function linkFor(kind, text, body) {
  const params = new URLSearchParams();
  params.set(kind, text);
  for (const key of LINK_KEYS) if (body[key] !== undefined && body[key] !== "") params.set(key, body[key]);
  for (const s of body.sources || []) params.append("sources", s);
  return "#" + params.toString();
}

function rememberAsked(kind, text, body) {
  const hash = linkFor(kind, text, body);
  links.routed = hash;
  if (location.hash !== hash) history.pushState(null, "", hash);
}

function rememberShown(shown) {
  if (askedInAddress()) links.shown.set(location.hash, shown);
}

const FORM_FIELDS = {
  q: { text: "question", source: "source", since: "since", until: "until", engine: "engine", k: "k" },
  brief: { text: "topic", source: "brief-source", since: "brief-since", until: "brief-until", engine: "brief-engine" },
};

function fillForm(kind, params) {
  const fields = FORM_FIELDS[kind];
  for (const [key, id] of Object.entries(fields)) $(id).value = (key === "text" ? params.get(kind) : params.get(key)) || "";
  setSelection(params.getAll("sources"));
}

function runFromAddress() {
  const hash = location.hash;
  if (hash === links.routed) return;
  links.routed = hash;
  if (openFromHash()) return;
  const params = new URLSearchParams(hash.slice(1));
  const kind = params.has("q") ? "q" : params.has("brief") ? "brief" : null;
  if (!kind) return;
  fillForm(kind, params);
  showView(kind === "q" ? "ask-view" : "brief-view");
  const shown = links.shown.get(hash);
  const event = { preventDefault() {}, fromLink: true };
  if (kind === "q") {
    if (shown) { showError(null); $("answer").hidden = false; renderAnswer(shown); } else ask(event);
  } else if (shown) {
    showError(null, "brief-error");
    renderBriefing(shown);
  } else {
    brief(event);
  }
}

window.addEventListener("popstate", runFromAddress);
window.addEventListener("hashchange", runFromAddress);
runFromAddress();
