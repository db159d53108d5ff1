// app.js - the review page of `faceaudit review`: fetches the findings and
// decisions from the local server, shows one finding at a time (or a grid),
// and posts decisions made with the keyboard or the buttons. Plain JS, no
// build step, nothing loaded from elsewhere.
"use strict";
const TOKEN = document.body.dataset.token;
const $ = (id) => document.getElementById(id);
const KIND = {
  misfiled: "Misfiled photo", same_identity: "Same person, two folders", duplicate: "Duplicate files",
  mixed_folder: "Mixed folder", stray: "Unlike its folder",
};
const DEC = { accept: "accepted", reject: "rejected", skip: "skipped", "": "to decide" };
let state = null, list = [], cur = 0, grid = false, undoStack = [], busy = false;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

function img(n, size, alt) {
  if (n === undefined || n < 0) return el("div", { class: "noimg s" + size }, "no image");
  return el("img", { src: `/img/${n}?s=${size}&t=${TOKEN}`, alt: alt || "", title: alt || "",
                     class: "s" + size, loading: "lazy" });
}

function toast(msg, bad) {
  const t = $("toast");
  t.textContent = msg;
  t.className = bad ? "show bad" : "show";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.className = ""), bad ? 4000 : 1500);
}

// --- what a finding's acceptance would do ---------------------------------
function actionText(f) {
  switch (f.kind) {
    case "misfiled": return `move ${f.path} into ${f.other_folder}/`;
    case "same_identity": return `merge ${f.other_folder}/ into ${f.folder}/`;
    case "duplicate": return `keep ${f.keep}, quarantine the other ${f.files.length - 1} cop${f.files.length > 2 ? "ies" : "y"}`;
    case "mixed_folder": return `move the other person's photos out of ${f.folder}/ into a new folder`;
    case "stray": return `quarantine ${f.path}`;
  }
  return f.action;
}

function folderStrip(name, label, cls) {
  const info = state.folders[name];
  if (!name || !info) return null;
  return el("section", { class: "strip " + (cls || "") },
    el("h3", {}, label, " ", el("b", {}, name + "/"), el("span", { class: "muted" }, ` ${info.files} faces`)),
    el("div", { class: "faces" }, ...info.imgs.map((n) => img(n, 96, name))));
}

/* A mixed folder: the folder's person and each group of faces (another
 * person) in a panel of its own, then the faces alone in one panel, each
 * captioned with its nearest folder: a face alone may be anyone, an odd
 * photo of the folder's person too (as the report says). */
function mixedFaces(f) {
  const count = (n) => el("span", { class: "muted" }, ` ${n} photo${n === 1 ? "" : "s"}`);
  const panel = (c) => el("div", { class: "cluster" + (c.own ? " own" : "") },
    el("h3", {}, c.own ? `${f.folder}: the folder's person` : "another person" + (c.looks_like ? `, looks like ${c.looks_like}` : ""),
      count(c.paths.length)),
    el("div", { class: "faces" }, ...c.imgs.slice(0, 16).map((n, i) => img(n, 160, c.paths[i]))));
  const alone = f.clusters.filter((c) => !c.own && c.paths.length === 1);
  const lone = alone.length ? el("div", { class: "cluster alone" },
    el("h3", {}, `${alone.length} face${alone.length === 1 ? "" : "s"} alone`,
      el("span", { class: "muted" }, " (each may be anyone, an odd photo of the folder's person too)")),
    el("div", { class: "faces" }, ...alone.slice(0, 16).map((c) => el("figure", {}, img(c.imgs[0], 160, c.paths[0]),
      el("figcaption", {}, c.looks_like ? `nearest ${c.looks_like}` : ""))))) : null;
  return el("div", { class: "clusters" }, ...f.clusters.filter((c) => c.own || c.paths.length > 1).map(panel), lone);
}

function bigFaces(f) {
  const files = f.files || [];
  const fig = (file, note) => el("figure", { class: file.path === f.keep ? "keep" : "" },
    img(file.img, 320, file.path), el("figcaption", {}, note ? el("b", {}, note + " ") : null, file.path));
  if (f.kind === "mixed_folder" && f.clusters.length) return mixedFaces(f);
  if (f.kind === "same_identity") {
    const side = (folder) => files.filter((x) => x.folder === folder).slice(0, 3).map((x) => fig(x));
    return el("div", { class: "big pair" }, el("div", { class: "side" }, ...side(f.folder)),
      el("div", { class: "vs" }, "≟"), el("div", { class: "side" }, ...side(f.other_folder)));
  }
  if (f.kind === "duplicate") return el("div", { class: "big" }, ...files.slice(0, 6).map((x) => fig(x, x.path === f.keep ? "keep" : null)));
  const main = files.find((x) => x.path === f.path) || files[0];
  const other = f.other_path ? files.find((x) => x.path === f.other_path) : null;
  return el("div", { class: "big" }, main ? fig(main) : null, other ? fig(other, "matches") : null);
}

function evidence(f) {
  const rows = Object.entries(f.evidence || {}).filter(([, v]) => typeof v !== "object");
  if (!rows.length) return null;
  const fmt = (v) => (typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(3)) : String(v));
  return el("table", { class: "evidence" }, el("caption", {}, "Evidence"),
    ...rows.map(([k, v]) => el("tr", {}, el("th", {}, k.replace(/_/g, " ")), el("td", {}, fmt(v)))),
    el("tr", {}, el("th", {}, "score"), el("td", {}, fmt(f.score))));
}

function badge(f) {
  return el("span", { class: "badge d-" + (f.decision || "none") }, DEC[f.decision || ""] + (f.arg ? ` → ${f.arg}` : ""));
}

function renderOne(main) {
  const f = list[cur];
  const needsName = f.kind === "mixed_folder";
  const card = el("article", { class: "card one", id: "finding", "data-id": f.id },
    el("div", { class: "head" },
      el("span", { class: "kind k-" + f.kind }, KIND[f.kind] || f.kind),
      el("span", { class: "rank" }, `#${f.rank}`), badge(f),
      f.review ? null : el("span", { class: "muted" }, "below the review line")),
    el("h2", { class: "summary" }, f.summary),
    el("p", { class: "action" }, "Accept = ", el("b", {}, actionText(f))),
    needsName ? el("label", { class: "name" }, "New folder name ",
      el("input", { id: "splitname", type: "text", value: f.arg || "", placeholder: "e.g. " + (f.clusters.find((c) => !c.own)?.looks_like || f.folder + " 2"),
                    spellcheck: "false" })) : null,
    el("div", { class: "buttons" },
      el("button", { class: "accept", onclick: () => decide("accept") }, el("kbd", {}, "y"), " Accept"),
      el("button", { class: "reject", onclick: () => decide("reject") }, el("kbd", {}, "n"), " Reject: keep as it is"),
      el("button", { onclick: () => decide("skip") }, el("kbd", {}, "s"), " Skip"),
      el("button", { onclick: undo }, el("kbd", {}, "u"), " Undo")),
    el("div", { class: "body" }, bigFaces(f),
      el("div", { class: "info" }, evidence(f),
        folderStrip(f.folder, f.kind === "same_identity" ? "Folder" : "Its folder", "own"),
        f.other_folder ? folderStrip(f.other_folder, f.kind === "same_identity" ? "and folder" : f.kind === "duplicate" ? "The other copy's folder" : "Suggested folder", "other") : null)));
  main.append(card);
}

function renderGrid(main) {
  const g = el("div", { class: "grid" });
  list.forEach((f, i) => {
    const file = f.files.find((x) => x.path === f.path) || f.files[0];
    const c = el("article", { class: "card cell" + (i === cur ? " sel" : ""), "data-id": f.id,
                              onclick: () => { cur = i; grid = false; render(); } },
      img(file && file.img, 160, file && file.path),
      el("div", { class: "cellbody" }, el("span", { class: "kind k-" + f.kind }, KIND[f.kind] || f.kind), badge(f),
        el("p", {}, f.summary)));
    g.append(c);
  });
  main.append(g);
  const sel = g.children[cur];
  if (sel) sel.scrollIntoView({ block: "nearest" });
}

function render() {
  const main = $("main");
  main.replaceChildren();
  const all = state.findings, decided = all.filter((f) => f.decision).length;
  const below = all.filter((f) => !f.decision && !f.review).length;
  $("opt-below").textContent = `to decide, below the review line (${below})`;
  $("count").textContent = `${decided} / ${all.length} decided`;
  $("bar").style.width = all.length ? `${(100 * decided) / all.length}%` : "0";
  $("v-one").className = grid ? "" : "on";
  $("v-grid").className = grid ? "on" : "";
  if (cur >= list.length) cur = Math.max(0, list.length - 1);
  $("pos").textContent = list.length ? `${cur + 1} of ${list.length} shown` : "";
  if (!list.length) {
    main.append(el("div", { class: "empty" }, all.length ? "Nothing left here. " : "The audit found nothing to review. ",
      all.length ? el("span", {}, "Run ", el("code", {}, "faceaudit fix CACHE"), " to see the moves of the accepted findings.") : null));
    return;
  }
  (grid ? renderGrid : renderOne)(main);
}

function filterList(keepId) {
  const kind = $("f-kind").value, folder = $("f-folder").value, st = $("f-status").value;
  list = state.findings.filter((f) => (!kind || f.kind === kind) &&
    (!folder || f.folder === folder || f.other_folder === folder) &&
    (st === "all" || (st === "open" ? !f.decision && f.review : st === "below" ? !f.decision && !f.review : f.decision === st)));
  if (keepId) { const i = list.findIndex((f) => f.id === keepId); if (i >= 0) cur = i; }
}

async function post(id, decision, arg) {
  const r = await fetch("/api/decide", { method: "POST", headers: { "Content-Type": "application/json", "X-FA-Token": TOKEN },
                                         body: JSON.stringify({ id, decision, arg: arg || "" }) });
  const text = await r.text();
  if (!r.ok) throw new Error(text.trim() || r.statusText);
  return JSON.parse(text);
}

function apply(res) {
  const f = state.findings.find((x) => x.id === res.id);
  f.decision = res.decision;
  f.arg = res.arg;
}

async function decide(d) {
  const f = list[cur];
  if (!f || busy) return;
  let arg = "";
  if (d === "accept" && f.kind === "mixed_folder") {
    arg = ($("splitname") && $("splitname").value.trim()) || "";
    if (!arg) { toast("Type the new folder's name first", true); $("splitname")?.focus(); return; }
  }
  busy = true;
  try {
    apply(await post(f.id, d, arg));
    undoStack.push(f.id);
    toast(`${DEC[d]}: ${f.summary}`);
    const st = $("f-status").value;
    filterList();
    if (st === "all" || st === d) cur = Math.min(cur + 1, list.length - 1);
    render();
  } catch (e) { toast(e.message, true); } finally { busy = false; }
}

async function undo() {
  if (busy) return;
  const id = undoStack.length ? undoStack[undoStack.length - 1] : list[cur] && list[cur].decision ? list[cur].id : null;
  if (!id) { toast("Nothing to undo", true); return; }
  busy = true;
  try {
    apply(await post(id, "undo"));
    if (undoStack.length && undoStack[undoStack.length - 1] === id) undoStack.pop();
    const f = state.findings.find((x) => x.id === id);
    if ($("f-status").value !== "all" && $("f-status").value !== (f.decision || "open")) $("f-status").value = f.decision ? "all" : "open";
    filterList(id);
    toast("undone: " + f.summary);
    render();
  } catch (e) { toast(e.message, true); } finally { busy = false; }
}

function move(step) {
  if (!list.length) return;
  cur = Math.min(Math.max(cur + step, 0), list.length - 1);
  render();
  if (!grid) window.scrollTo(0, 0);
}

function help(show) { $("help").hidden = !show; }

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") {
    if (e.key === "Escape") e.target.blur();
    else if (e.key === "Enter" && e.target.id === "splitname") { e.target.blur(); decide("accept"); }
    return;
  }
  const k = e.key;
  if (!$("help").hidden && (k === "Escape" || k === "?")) { help(false); e.preventDefault(); return; }
  const acts = { j: () => move(1), ArrowRight: () => move(1), k: () => move(-1), ArrowLeft: () => move(-1),
    y: () => decide("accept"), n: () => decide("reject"), s: () => decide("skip"), u: undo,
    g: () => { grid = !grid; render(); }, "?": () => help(true), Escape: () => help(false) };
  if (acts[k]) { e.preventDefault(); acts[k](); }
});

async function load() {
  const r = await fetch(`/api/state?t=${TOKEN}`);
  if (!r.ok) throw new Error(await r.text());
  state = await r.json();
  $("root").textContent = state.root;
  document.title = `faceaudit review: ${state.root}`;
  const kinds = [...new Set(state.findings.map((f) => f.kind))];
  for (const k of kinds) $("f-kind").append(el("option", { value: k }, KIND[k] || k));
  for (const name of Object.keys(state.folders).sort()) $("f-folder").append(el("option", { value: name }, name));
  for (const id of ["f-kind", "f-folder", "f-status"])
    $(id).addEventListener("change", () => { cur = 0; filterList(); render(); $(id).blur(); });
  $("v-one").addEventListener("click", () => { grid = false; render(); });
  $("v-grid").addEventListener("click", () => { grid = true; render(); });
  $("help").addEventListener("click", () => help(false));
  filterList();
  render();
  document.body.classList.add("ready");
}

load().catch((e) => { $("main").replaceChildren(el("div", { class: "empty bad" }, "Could not load the findings: " + e.message)); });
