"""The demo's one page: HTML, CSS and script, served from these strings (no CDN, no build step, nothing
fetched from elsewhere). The script fills the page with ``textContent`` only, so nothing from a file or a
model is ever parsed as HTML."""

from __future__ import annotations

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mslu demo</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<header>
  <h1>mslu <span>sign language understanding demo</span></h1>
  <p id="loaded">Loading the models&hellip;</p>
</header>
<main>
  <section id="upload">
    <label id="drop" for="file">
      <strong>Drop a video or a pose file here</strong>
      <span>or click to choose one</span>
      <small id="accepted"></small>
    </label>
    <input type="file" id="file" name="file">
    <details id="size">
      <summary>Frame size (only for files that do not record it: MMPose JSON, .npy)</summary>
      <label>width <input type="number" id="width" min="1" max="100000"></label>
      <label>height <input type="number" id="height" min="1" max="100000"></label>
    </details>
    <p id="status" role="status"></p>
    <p id="error" role="alert" hidden></p>
  </section>
  <section id="results" hidden>
    <div id="pose">
      <h2>Pose (SL79)</h2>
      <img id="skeleton" alt="rendered SL79 skeleton of the upload">
      <p id="file-info"></p>
    </div>
    <div id="runs"></div>
    <div id="search" hidden>
      <h2>Nearest clips of the index</h2>
      <table><thead><tr><th>#</th><th>clip</th><th>score</th><th>frames</th></tr></thead>
      <tbody id="hits"></tbody></table>
    </div>
  </section>
</main>
<footer>Runs locally; uploads are deleted after each analysis.</footer>
</body>
</html>
"""

APP_CSS = """
:root { --fg: #1d2330; --muted: #667085; --accent: #2f6fde; --bg: #f6f7fb; --card: #fff; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header h1 { margin: 18px 0 2px; font-size: 24px; }
header h1 span { font-weight: 400; color: var(--muted); font-size: 17px; }
#loaded, footer { color: var(--muted); font-size: 13px; }
footer { padding: 24px 20px; }
#drop { display: flex; flex-direction: column; align-items: center; gap: 4px; padding: 28px;
  border: 2px dashed #b7c0d3; border-radius: 10px; background: var(--card); cursor: pointer; }
#drop.over { border-color: var(--accent); background: #eef3fd; }
#drop small { color: var(--muted); }
#file { display: none; }
#size { margin: 8px 0; font-size: 13px; color: var(--muted); }
#size input { width: 90px; margin-right: 12px; }
#status { min-height: 1.4em; color: var(--muted); }
#error { padding: 10px 14px; border-radius: 8px; background: #fef3f2; color: var(--bad);
  border: 1px solid #fecdca; }
#results { display: grid; grid-template-columns: minmax(260px, 360px) 1fr; gap: 18px; align-items: start; }
#pose, .run, #search { background: var(--card); border-radius: 10px; padding: 14px 16px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .08); }
#pose img { width: 100%; background: #111; border-radius: 6px; }
#file-info { font-size: 12px; color: var(--muted); }
#runs { display: flex; flex-direction: column; gap: 14px; }
#search { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
.run h2 small { font-weight: 400; color: var(--muted); }
.top5 { margin: 0; padding-left: 22px; }
.top5 li { margin: 4px 0; }
.top5 .label { font-weight: 600; }
.top5 .text { color: var(--muted); margin-left: 6px; }
.top5 .prob { float: right; font-variant-numeric: tabular-nums; }
.bar { height: 5px; background: #e4e7ec; border-radius: 3px; margin-top: 2px; }
.bar div { height: 5px; background: var(--accent); border-radius: 3px; }
.translation, .glosses { font-size: 18px; margin: 4px 0; }
.run .error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaecf0; }
@media (max-width: 760px) { #results { grid-template-columns: 1fr; } }
"""

APP_JS = r"""
"use strict";
let info = null;
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function showError(msg) {
  $("status").textContent = "";
  $("error").textContent = msg;
  $("error").hidden = false;
}

function mb(bytes) { return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + " MB"; }

async function loadInfo() {
  try {
    const r = await fetch("/api/info");
    info = await r.json();
  } catch (e) {
    $("loaded").textContent = "The server does not answer.";
    return;
  }
  const runs = info.runs.map((r) => r.name + " (" + r.task + ")");
  let text = "Loaded: " + (runs.length ? runs.join(", ") : "no run");
  if (info.index) text += "; index " + info.index.path + " (" + info.index.clips + " clips)";
  $("loaded").textContent = text + ".";
  const lim = info.limits;
  $("accepted").textContent = info.accepted.join(" ") + " \u00b7 up to " + mb(lim.max_upload_bytes) +
    ", " + lim.max_frames + " frames";
  $("file").accept = info.accepted.join(",");
}

function renderRun(run) {
  const card = el("article", "run");
  card.dataset.task = run.task;
  const h = el("h2", null, run.title + " ");
  h.appendChild(el("small", null, run.name));
  card.appendChild(h);
  if (run.error) { card.appendChild(el("p", "error", run.error)); return card; }
  const res = run.result || {};
  if (res.top5) {
    const ol = el("ol", "top5");
    for (const c of res.top5) {
      const li = el("li");
      li.appendChild(el("span", "label", c.label));
      if (c.text && c.text !== c.label) li.appendChild(el("span", "text", c.text));
      li.appendChild(el("span", "prob", (100 * c.prob).toFixed(1) + "%"));
      const bar = el("div", "bar"), fill = el("div");
      fill.style.width = Math.max(0, Math.min(100, 100 * c.prob)).toFixed(1) + "%";
      bar.appendChild(fill); li.appendChild(bar); ol.appendChild(li);
    }
    card.appendChild(ol);
  }
  if (res.glosses !== undefined) {
    const g = Array.isArray(res.glosses) ? res.glosses.join(" ") : String(res.glosses);
    card.appendChild(el("p", "glosses", g || "(no gloss)"));
  }
  if (res.translation !== undefined) card.appendChild(el("p", "translation", res.translation || "(empty)"));
  if (res.nearest_texts) {
    const ol = el("ol", "nearest");
    for (const t of res.nearest_texts) {
      ol.appendChild(el("li", null, t.text + "  (" + t.score.toFixed(3) + ")"));
    }
    card.appendChild(ol);
  }
  return card;
}

function renderResult(data) {
  const f = data.file;
  $("skeleton").src = "data:" + data.skeleton.mime + ";base64," + data.skeleton.data;
  $("file-info").textContent = [
    f.name, f.source, f.layout, f.frames + " frames at " + f.fps + " fps", f.width + "\u00d7" + f.height,
    "pose in " + f.frames_with_pose + " frames",
  ].join(" \u00b7 ");
  const runs = $("runs");
  runs.replaceChildren(...data.runs.map(renderRun));
  const s = data.search;
  $("search").hidden = !s;
  const body = $("hits");
  body.replaceChildren();
  if (s && s.error) {
    const tr = el("tr"), td = el("td", "error", s.error);
    td.colSpan = 4; tr.appendChild(td); body.appendChild(tr);
  } else if (s) {
    for (const hit of s.hits) {
      const tr = el("tr");
      tr.appendChild(el("td", null, hit.rank));
      const td = el("td", null, hit.id);
      td.title = hit.path;
      tr.appendChild(td);
      tr.appendChild(el("td", null, hit.score.toFixed(4)));
      tr.appendChild(el("td", null, hit.frames));
      body.appendChild(tr);
    }
  }
  $("results").hidden = false;
  $("status").textContent = "Done in " + data.seconds.toFixed(2) + " s.";
}

async function analyse(file) {
  $("error").hidden = true;
  if (info && file.size > info.limits.max_upload_bytes) {
    showError(file.name + ": " + mb(file.size) + "; this server takes files up to " +
      mb(info.limits.max_upload_bytes));
    return;
  }
  $("status").textContent = "Analysing " + file.name + "\u2026";
  const q = new URLSearchParams({ filename: file.name });
  for (const k of ["width", "height"]) if ($(k).value) q.set(k, $(k).value);
  let r;
  try {
    r = await fetch("/api/analyse?" + q.toString(), {
      method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" },
    });
  } catch (e) {
    showError("The upload failed: " + e.message);
    return;
  }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!data) { showError("The server answered HTTP " + r.status + " without a result."); return; }
  if (!data.ok) { showError(data.error || ("HTTP " + r.status)); return; }
  renderResult(data);
}

window.addEventListener("DOMContentLoaded", () => {
  loadInfo();
  const drop = $("drop"), input = $("file");
  input.addEventListener("change", () => {
    if (input.files.length) analyse(input.files[0]);
    input.value = "";
  });
  for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => {
    e.preventDefault(); drop.classList.add("over");
  });
  for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, (e) => {
    e.preventDefault(); drop.classList.remove("over");
  });
  drop.addEventListener("drop", (e) => {
    if (e.dataTransfer.files.length) analyse(e.dataTransfer.files[0]);
  });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => e.preventDefault());
});
"""
