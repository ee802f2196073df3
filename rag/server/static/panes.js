// The article pane follows what is shown: a new answer or briefing moves an open pane to its
// first citation (or closes it when it has none), and a switch of view closes it. Keys step
// through the citations: j or ] the next, k or [ the previous, Escape closes the pane.
"use strict";

const panes = { cites: new Map(), byView: new Map(), open: null };

function currentViewId() {
  const view = [...document.querySelectorAll(".view")].find((v) => !v.hidden);
  return view ? view.id : "ask-view";
}

function followAnswer(cites, shown) {
  rememberShown(shown);
  panes.cites = cites;
  panes.open = null;
  panes.byView.set(currentViewId(), cites);
  if ($("viewer").hidden) return;
  const first = cites.keys().next();
  if (first.done) closeViewer();
  else openCitation(cites, first.value);
}

function viewChanged(id) {
  panes.cites = panes.byView.get(id) || new Map();
  panes.open = null;
  if (!$("viewer").hidden) closeViewer();
}

function citationOpened(cites, n) {
  panes.cites = cites;
  panes.open = n;
  for (const node of document.querySelectorAll(".cite.current")) node.classList.remove("current");
  const view = $(currentViewId());
  for (const node of view ? view.querySelectorAll(`.cite[data-n="${n}"]`) : []) node.classList.add("current");
}

function stepCitation(direction) {
  const numbers = [...panes.cites.keys()];
  if (!numbers.length) return;
  const at = numbers.indexOf(panes.open);
  const next = at < 0 ? (direction > 0 ? 0 : numbers.length - 1) : (at + direction + numbers.length) % numbers.length;
  openCitation(panes.cites, numbers[next]);
  const entry = $(currentViewId()).querySelector(`.citations a.where[data-n="${numbers[next]}"]`);
  if (entry) {
    entry.focus({ preventScroll: true });
    entry.scrollIntoView({ block: "nearest" });
  }
}

function typing(target) {
  return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && !$("viewer").hidden) {
    closeViewer();
    return;
  }
  if (typing(event.target)) return;
  if (event.key === "j" || event.key === "]") stepCitation(1);
  else if (event.key === "k" || event.key === "[") stepCitation(-1);
  else return;
  event.preventDefault();
});

// The briefing's pictures: plotly.js is loaded on first use (from this server, never a CDN).
let plotlyLoading = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  plotlyLoading = plotlyLoading || new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/lib/plotly.min.js";
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => { plotlyLoading = null; reject(new Error("could not load /lib/plotly.min.js")); };
    document.head.append(script);
  });
  return plotlyLoading;
}

async function drawPictures(container, briefing, cites) {
  container.dataset.state = "drawing";
  try {
    const Plotly = await loadPlotly();
    await drawBriefingPictures(container, briefing, { Plotly, onCite: (n) => openCitation(cites, n) });
    container.dataset.state = "drawn";
  } catch (err) {
    container.dataset.state = "failed";
    container.replaceChildren(el("p", { class: "error", textContent: `The pictures could not be drawn: ${err.message}` }));
  }
}
