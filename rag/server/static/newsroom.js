// The newsroom additions to the page (issue 17), kept apart from app.js: a conversation thread
// whose turns go with each question as `history` (a follow-up is rewritten on the server and the
// answer shows the rewrite), answers dated ("as of ..., from N articles dated ..."), --as-of, and
// briefings of what is new since a date. app.js calls the three hooks below.
"use strict";

const thread = [];  // earlier turns: {question, rewritten, answer}
const MAX_TURNS = 6;

// app.js askBody() → extra fields of the POST /ask body
function newsroomAskFields() {
  const fields = {};
  const asOf = document.getElementById("as-of");
  if (asOf && asOf.value) fields.as_of = asOf.value;
  if (thread.length) fields.history = thread.slice(-MAX_TURNS);
  return fields;
}

// app.js renderAnswer(answer) → the rewrite, the evidence dates, the thread
function newsroomRenderAnswer(answer) {
  const box = document.getElementById("answer-dating");
  if (box) {
    box.replaceChildren();
    if (answer.rewritten) box.append(el("p", { class: "muted rewritten", textContent: `Answered as: ${answer.rewritten}` }));
    if (answer.dated) box.append(el("p", { class: "muted dated", textContent: `Evidence: ${answer.dated.text}` }));
  }
  const latest = answer.sentences.findIndex((s) => s.latest);
  if (latest >= 0) {
    const node = document.querySelectorAll("#sentences .sentence")[latest];
    if (node) node.append(" ", el("span", { class: "flag latest", textContent: "(latest figure)" }));
  }
  thread.push({ question: answer.question, rewritten: answer.rewritten || null,
                answer: answer.refused ? null : answer.answer.slice(0, 20000) });
  renderThread();
}

function renderThread() {
  const list = document.getElementById("thread");
  if (!list) return;
  list.replaceChildren(...thread.map((t) => el("li", {},
    el("span", { textContent: t.question }),
    t.rewritten ? el("span", { class: "muted", textContent: ` → ${t.rewritten}` }) : "")));
  document.getElementById("thread-box").hidden = thread.length === 0;
}

function newThread() {
  thread.length = 0;
  renderThread();
}

// app.js briefBody() → extra fields of the POST /brief body
function newsroomBriefFields() {
  const since = document.getElementById("new-since");
  return since && since.value ? { new_since: since.value } : {};
}

document.getElementById("new-thread")?.addEventListener("click", newThread);
