// A briefing's pictures, drawn with plotly.js (served from the installed plotly package, never a
// CDN): the timeline on a date axis (events as marks, episodes as bands, disagreeing figures
// marked) and the coverage (articles per day per outlet). One function, used by the web page
// and by `rag brief --format html`, which inlines this file and plotly.min.js.
// A click on a mark lists its citations; `onCite(n)` opens citation n.
"use strict";

const PICTURE_COLORS = ["#0b5fff", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8f5d46", "#495867"];

function pictureShift(isoDate, hours) {  // "2020-12-20", 12 → "2020-12-20 12:00" (plotly's date format)
  const t = new Date(`${isoDate}T00:00:00Z`).getTime() + hours * 3600000;
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

function pictureNode(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Events stacked on their day, disagreement sides on a lane of their own below the axis line.
function timelineTraces(b) {
  const perDay = new Map();
  const events = { x: [], y: [], text: [], customdata: [], color: [] };
  b.timeline.forEach((e, i) => {
    const row = perDay.get(e.date) || 0;
    perDay.set(e.date, row + 1);
    events.x.push(e.date);
    events.y.push(row + 1);
    events.text.push(`${e.when}<br>${wrapHover(e.text)}<br>[${e.citations.join("] [")}]`);
    events.customdata.push({ kind: "event", index: i });
    events.color.push(e.episode ? PICTURE_COLORS[(e.episode - 1) % PICTURE_COLORS.length] : "#555");
  });
  const ranges = [];
  b.timeline.forEach((e, i) => {
    if (e.end && e.end !== e.date) {
      ranges.push({ x: [e.date, e.end], y: [events.y[i], events.y[i]], mode: "lines", type: "scatter",
        line: { color: events.color[i], width: 3 }, hoverinfo: "skip", showlegend: false });
    }
  });
  const sides = { x: [], y: [], text: [], customdata: [] };
  b.disagreements.forEach((d, i) => {
    for (const s of d.sides) {
      if (!s.date) continue;
      sides.x.push(s.date);
      sides.y.push(-0.6);
      sides.text.push(`Sources disagree on ${d.about}: ${s.value}` + (s.outlet ? ` (${s.outlet})` : ""));
      sides.customdata.push({ kind: "disagreement", index: i });
    }
  });
  const traces = [...ranges, {
    name: "events", uid: "events", type: "scatter", mode: "markers", x: events.x, y: events.y, text: events.text,
    customdata: events.customdata, hovertemplate: "%{text}<extra></extra>",
    marker: { size: 13, color: events.color, line: { color: "#fff", width: 1 } },
  }];
  if (sides.x.length) {
    traces.push({ name: "sources disagree", uid: "disagree", type: "scatter", mode: "markers", x: sides.x, y: sides.y, text: sides.text,
      customdata: sides.customdata, hovertemplate: "%{text}<extra></extra>",
      marker: { size: 13, symbol: "x", color: "#a4420a" } });
  }
  return { traces, top: Math.max(1, ...events.y), undatedDisagreements: b.disagreements.length - new Set(sides.customdata.map((c) => c.index)).size };
}

function wrapHover(text, width = 60) {
  const words = text.split(/\s+/);
  const lines = [""];
  for (const w of words) {
    if ((lines[lines.length - 1] + " " + w).length > width && lines[lines.length - 1]) lines.push(w);
    else lines[lines.length - 1] = (lines[lines.length - 1] + " " + w).trim();
  }
  return lines.slice(0, 4).join("<br>") + (lines.length > 4 ? "…" : "");
}

function episodeShapes(b) {
  const shapes = [], annotations = [];
  if (b.episodes.length < 2) return { shapes, annotations };
  for (const e of b.episodes) {
    if (!e.start) continue;
    const color = PICTURE_COLORS[(e.n - 1) % PICTURE_COLORS.length];
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: pictureShift(e.start, -12), x1: pictureShift(e.end || e.start, 12),
      y0: 0, y1: 1, fillcolor: color, opacity: 0.1, line: { width: 0 }, layer: "below" });
    annotations.push({ xref: "x", yref: "paper", x: pictureShift(e.start, -12), y: 1, xanchor: "left", yanchor: "bottom",
      text: `E${e.n}`, showarrow: false, font: { color, size: 12 } });
  }
  return { shapes, annotations };
}

function coverageTraces(b) {
  const counts = new Map();  // outlet → Map(day → articles)
  for (const s of b.sources) {
    if (!s.date) continue;
    const outlet = s.outlet || "outlet not given";
    if (!counts.has(outlet)) counts.set(outlet, new Map());
    const days = counts.get(outlet);
    days.set(s.date, (days.get(s.date) || 0) + 1);
  }
  return [...counts].map(([outlet, days], i) => {
    const sorted = [...days].sort();
    return { type: "bar", name: outlet, x: sorted.map(([d]) => d), y: sorted.map(([, n]) => n),
      marker: { color: PICTURE_COLORS[i % PICTURE_COLORS.length] }, hovertemplate: `${outlet}: %{y} on %{x}<extra></extra>` };
  });
}

function dateSpan(dates) {
  const sorted = [...dates].sort();
  return [pictureShift(sorted[0], -36), pictureShift(sorted[sorted.length - 1], 36)];
}

// The citations of one mark, listed below the picture (one click on the mark shows them).
function showMarkCitations(box, b, point, onCite) {
  const cites = new Map(b.citations.map((c) => [c.n, c]));
  const { kind, index } = point.customdata;
  box.replaceChildren();
  let numbers, heading;
  if (kind === "event") {
    const e = b.timeline[index];
    numbers = e.citations;
    heading = `${e.when} — ${e.text}`;
  } else {
    const d = b.disagreements[index];
    numbers = [...new Set(d.sides.flatMap((s) => s.citations))];
    heading = `Sources disagree on ${d.about}: ` + d.sides.map((s) => s.value).join(" / ");
  }
  box.append(pictureNode("p", "mark-heading", heading));
  const list = pictureNode("ul", "mark-citations");
  for (const n of numbers) {
    const c = cites.get(n);
    if (!c) continue;
    const item = pictureNode("li");
    const open = pictureNode("button", "cite", `[${n}] ${c.source}:${c.line_start}` + (c.line_end !== c.line_start ? `-${c.line_end}` : ""));
    open.type = "button";
    open.dataset.n = String(n);
    open.addEventListener("click", () => onCite(n));
    item.append(open, " ", pictureNode("q", "", c.quote));
    list.append(item);
  }
  box.append(list);
  box.hidden = false;
  const first = list.querySelector("button");
  if (first) first.focus();
}

// Draws into `container` (emptied first). Returns a promise that settles when plotly is done.
function drawBriefingPictures(container, b, { onCite = () => {}, Plotly = window.Plotly } = {}) {
  container.replaceChildren();
  const dated = b.timeline.map((e) => e.date).concat(b.sources.filter((s) => s.date).map((s) => s.date));
  if (!dated.length) {
    container.append(pictureNode("p", "muted", "No dated events or articles to draw."));
    return Promise.resolve();
  }
  const range = dateSpan(dated.concat(b.timeline.map((e) => e.end).filter(Boolean)));
  const common = { responsive: true, displayModeBar: false };
  const jobs = [];
  const axis = { type: "date", range, automargin: true };

  const timeline = pictureNode("figure", "picture timeline-picture");
  const plot = pictureNode("div", "plot");
  const marks = pictureNode("div", "mark-box");
  marks.hidden = true;
  timeline.append(pictureNode("figcaption", "muted", "Timeline: each mark is an event (click it for its citations)" +
    (b.episodes.length > 1 ? "; shaded bands are the separate episodes" : "") +
    (b.disagreements.length ? "; × marks a figure on which the sources disagree" : "")), plot, marks);
  container.append(timeline);
  if (b.timeline.length || b.disagreements.length) {
    const { traces, top, undatedDisagreements } = timelineTraces(b);
    const { shapes, annotations } = episodeShapes(b);
    const layout = { height: 240, margin: { l: 20, r: 20, t: 24, b: 40 }, showlegend: false, hovermode: "closest",
      xaxis: axis, yaxis: { visible: false, range: [-1.2, top + 0.8], fixedrange: true }, shapes, annotations };
    jobs.push(Plotly.newPlot(plot, traces, layout, common).then(() => {
      plot.on("plotly_click", (event) => { if (event.points.length) showMarkCitations(marks, b, event.points[0], onCite); });
    }));
    if (undatedDisagreements) {
      timeline.append(pictureNode("p", "muted", `${undatedDisagreements} disagreement(s) without a dated source are listed below, not drawn.`));
    }
  } else {
    plot.append(pictureNode("p", "muted", "No dated events."));
  }

  const coverage = pictureNode("figure", "picture coverage-picture");
  const bars = pictureNode("div", "plot");
  coverage.append(pictureNode("figcaption", "muted", "Coverage: articles per day per outlet"), bars);
  container.append(coverage);
  const traces = coverageTraces(b);
  if (traces.length) {
    const layout = { height: 200, margin: { l: 40, r: 20, t: 10, b: 40 }, barmode: "stack", xaxis: axis,
      yaxis: { title: { text: "articles" }, rangemode: "tozero", fixedrange: true }, legend: { orientation: "h", y: -0.25 } };
    jobs.push(Plotly.newPlot(bars, traces, layout, common));
  } else {
    bars.append(pictureNode("p", "muted", "No dated articles."));
  }
  return Promise.all(jobs);
}
