// Suggested questions and briefing topics (GET /suggestions: names that recent articles share,
// found without an LLM). A click asks the question, or writes the briefing.
"use strict";

function suggestionChip(s) {
  const chip = el("button", { type: "button", class: "suggestion", textContent: s.text,
    title: `${s.articles} recent articles` + (s.latest ? `, the latest of ${s.latest}` : "") + (s.titles.length ? `: ${s.titles.join(" · ")}` : "") });
  chip.addEventListener("click", () => {
    if (s.kind === "ask") {
      $("question").value = s.text;
      $("ask-form").requestSubmit();
    } else {
      $("topic").value = s.text;
      $("brief-form").requestSubmit();
    }
  });
  return chip;
}

async function loadSuggestions() {
  try {
    const list = await (await api("/suggestions")).json();
    for (const [kind, id, label] of [["ask", "ask-suggestions", "Try: "], ["brief", "brief-suggestions", "Stories in the news: "]]) {
      const chips = list.filter((s) => s.kind === kind).map(suggestionChip);
      $(id).replaceChildren(el("span", { class: "muted", textContent: label }), ...chips);
      $(id).hidden = !chips.length;
    }
  } catch (_) { /* no index yet: nothing to suggest */ }
}

loadSuggestions();
