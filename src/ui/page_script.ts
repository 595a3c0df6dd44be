/**
 * The dashboard's browser script, served inline by page.ts (which hashes it
 * for the Content-Security-Policy): plain JavaScript in a string, with no
 * build step, reading only this server's API.
 *
 * @module
 */

/** The page's whole script, run as `<script>` at the end of its body. */
export const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "imgserve-token";
let cursors = [];
let next;
let shown;
const finishes = [];

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const result = { "content-type": "application/json" };
  if (token) result.authorization = "Bearer " + token;
  return result;
}

function say(text) { $("status").textContent = text; }

async function api(path, init) {
  const response = await fetch(path, Object.assign({ headers: headers() }, init || {}));
  if (response.status === 401) { askToken(); throw new Error("401"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : undefined;
  if (!response.ok) throw new Error((body && body.error) || ("HTTP " + response.status));
  return body;
}

function askToken() {
  const refused = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("token-why").textContent = refused ? "The server refused that token." : "This server needs a token.";
  $("login").hidden = false;
  $("main").hidden = true;
  $("token").focus();
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function mib(bytes) { return typeof bytes === "number" ? (bytes / 1048576).toFixed(1) + " MiB" : "?"; }

function showHealth(h) {
  $("queued").textContent = h.queued;
  $("busy").textContent = h.busy + " / " + h.workers;
  $("jobs-active").textContent = h.jobs;
  $("memory").textContent = mib(h.memory && h.memory.bytes);
}

function showThroughput() {
  const since = Date.now() - 60000;
  while (finishes.length && finishes[0] < since) finishes.shift();
  $("throughput").textContent = finishes.length + " / min";
}

async function loadList() {
  const params = new URLSearchParams({ limit: $("limit").value });
  if ($("state").value) params.set("state", $("state").value);
  const cursor = cursors.at(-1);
  if (cursor) params.set("cursor", cursor);
  const page = await api("/jobs?" + params);
  next = page.next;
  const body = $("jobs");
  body.replaceChildren();
  for (const job of page.jobs) {
    const row = body.insertRow();
    row.dataset.id = job.id;
    const open = document.createElement("button");
    open.className = "link";
    open.textContent = job.id;
    open.setAttribute("aria-label", "details of job " + job.id);
    open.onclick = () => showJob(job.id).then(() => $("detail-title").focus(), (e) => say(e.message));
    row.insertCell().append(open);
    cell(row, job.state, job.state).dataset.field = "state";
    cell(row, job.acceptedAt.replace("T", " ").replace(/\\..*/, ""));
    cell(row, job.dstURL || (job.outputs || []).map((o) => o.dstURL).join(" "), "url");
    cell(row, job.code ? job.code + " " + job.error : "");
  }
  $("empty").hidden = page.jobs.length > 0;
  $("next").disabled = !next;
  $("first").disabled = cursors.length === 0;
  $("page").textContent = "page " + (cursors.length + 1);
}

function outputsOf(job) {
  if (job.outputs) return job.outputs;
  const state = job.state === "done" ? "done" : job.state === "failed" || job.state === "cancelled" ? "failed" : "pending";
  return [{ dstURL: job.dstURL, width: job.width, height: job.height, state, times: job.times }];
}

function times(t) {
  return Object.entries(t || {}).map(([k, v]) => k + " " + Number(v).toFixed(1) + " ms").join(", ");
}

async function showJob(id) {
  const job = await api("/jobs/" + encodeURIComponent(id));
  shown = id;
  $("detail").hidden = false;
  $("detail-id").textContent = job.id;
  const facts = $("facts");
  facts.replaceChildren();
  const fact = (name, value) => {
    if (value === undefined || value === "") return;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    facts.append(dt, dd);
  };
  const request = job.request || {};
  fact("operation", request.operationType);
  fact("source", request.srcURL);
  (request.outputs || []).forEach((o, n) => fact("asked output " + (n + 1), o.dstURL + " " + JSON.stringify(o.args)));
  fact("callback URL", request.callbackURL);
  fact("state", job.state);
  fact("attempts", job.attempts);
  fact("accepted", job.acceptedAt);
  fact("started", job.startedAt);
  fact("finished", job.finishedAt);
  fact("next retry", job.retryAt);
  fact("error", job.code ? job.code + " " + job.error : undefined);
  fact("cancel requested", job.cancelRequested ? "yes" : undefined);
  fact("callback delivery", job.callback);
  const list = $("outputs");
  list.replaceChildren();
  outputsOf(job).forEach((output, n) => {
    const item = document.createElement("li");
    const line = document.createElement("div");
    line.textContent = output.dstURL + " " + output.width + "x" + output.height + " " + output.state +
      (output.size !== undefined ? " " + output.size + " bytes" : "") +
      (output.code ? " error " + output.code + " " + output.error : "");
    item.append(line);
    if (output.times) {
      const t = document.createElement("div");
      t.textContent = "times: " + times(output.times);
      item.append(t);
    }
    if (output.state === "done") preview(item, job.id, n, output);
    list.append(item);
  });
  $("cancel").disabled = ["done", "failed", "cancelled"].includes(job.state);
  $("retry").disabled = !["failed", "cancelled"].includes(job.state);
}

async function preview(item, id, n, output) {
  try {
    const response = await fetch("/jobs/" + encodeURIComponent(id) + "/outputs/" + n, { headers: headers() });
    if (!response.ok) throw new Error((await response.json()).error);
    const img = document.createElement("img");
    img.alt = "output " + (n + 1) + " of job " + id + ", " + output.width + "x" + output.height;
    img.src = URL.createObjectURL(await response.blob());
    img.onload = () => URL.revokeObjectURL(img.src);
    item.append(img);
  } catch (err) {
    const note = document.createElement("div");
    note.textContent = "no preview: " + err.message;
    item.append(note);
  }
}

async function act(method, suffix) {
  if (!shown) return;
  try {
    await api("/jobs/" + encodeURIComponent(shown) + suffix, { method });
    say((method === "DELETE" ? "cancel asked for " : "retry asked for ") + shown);
    await showJob(shown);
  } catch (err) { say(err.message); }
}

function onEvent(type, data) {
  if (type === "pool") { showHealth(data); return; }
  if (type !== "job") return;
  if (["done", "failed", "cancelled"].includes(data.event)) { finishes.push(Date.now()); showThroughput(); }
  const row = document.querySelector('#jobs tr[data-id="' + CSS.escape(data.id) + '"]');
  if (row && data.state) {
    const td = row.querySelector('[data-field="state"]');
    td.textContent = data.state;
    td.className = data.state;
  }
  if (!row && data.event === "accepted" && cursors.length === 0) scheduleList();
  if (data.id === shown) showJob(shown).catch((err) => say(err.message));
  scheduleHealth();
}

let listTimer, healthTimer;
function scheduleList() { clearTimeout(listTimer); listTimer = setTimeout(() => loadList().catch((e) => say(e.message)), 200); }
function scheduleHealth() {
  if (healthTimer) return;
  healthTimer = setTimeout(() => { healthTimer = undefined; api("/healthz").then(showHealth, () => {}); }, 1000);
}

async function listen() {
  let lastId;
  for (;;) {
    try {
      const h = headers();
      if (lastId) h["last-event-id"] = lastId;
      const response = await fetch("/events", { headers: h });
      if (response.status === 401) { askToken(); return; }
      if (!response.ok) throw new Error("HTTP " + response.status);
      $("live").textContent = "live";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\\n\\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = "message", data = "";
          for (const line of block.split("\\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
            else if (line.startsWith("id: ")) lastId = line.slice(4);
          }
          if (data) onEvent(type, JSON.parse(data));
        }
      }
    } catch (err) { $("live").textContent = "disconnected: " + err.message; }
    $("live").textContent = "reconnecting";
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  try {
    showHealth(await api("/healthz"));
    await loadList();
  } catch (err) { if (err.message !== "401") say(err.message); return; }
  listen();
}

$("login").onsubmit = (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value);
  $("token").value = "";
  start();
};
$("filters").onsubmit = (event) => { event.preventDefault(); cursors = []; loadList().catch((e) => say(e.message)); };
$("next").onclick = () => { if (next) { cursors.push(next); loadList().catch((e) => say(e.message)); } };
$("first").onclick = () => { cursors = []; loadList().catch((e) => say(e.message)); };
$("cancel").onclick = () => act("DELETE", "");
$("retry").onclick = () => act("POST", "/retry");
$("close").onclick = () => { shown = undefined; $("detail").hidden = true; };
setInterval(showThroughput, 5000);
start();
`;
