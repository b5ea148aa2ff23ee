// The twinteller console: reads and changes everything through /api with the signed-in
// admin token (kept for this browser tab only), refreshes the live views every 5 seconds.
"use strict";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("twinteller-token") || "";
let faqIds = [];

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const reply = await fetch(path, { ...options, headers });
  const data = await reply.json().catch(() => ({}));
  if (reply.status === 401) signOut("Your token was refused: " + (data.error || "sign in again"));
  if (!reply.ok) throw new Error(data.error || reply.statusText);
  return data;
}

function say(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "status error" : "status";
}

function el(tag, text, attributes = {}) {
  const node = document.createElementNS(tag === "svg" || ["line", "polyline", "rect", "text"].includes(tag)
    ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

function lineChart(svg, series, maxY) {
  // series: [{name, colour, points: [[x 0..1, y]]}]
  svg.replaceChildren();
  const [w, h, pad] = [600, svg.viewBox.baseVal.height, 24];
  const top = maxY || Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  svg.append(el("line", undefined, { x1: pad, y1: h - pad, x2: w, y2: h - pad, stroke: "#999" }));
  svg.append(el("text", String(Math.round(top * 100) / 100), { x: 2, y: 12, "font-size": 11 }));
  for (const s of series) {
    const coords = s.points.map(([x, y]) => `${pad + x * (w - pad)},${h - pad - (y / top) * (h - 2 * pad)}`);
    svg.append(el("polyline", undefined, { points: coords.join(" "), fill: "none", stroke: s.colour, "stroke-width": 2 }));
  }
}

function showTraffic(traffic) {
  const minutes = traffic.minutes || [];
  const now = Math.floor(Date.now() / 60000);
  const zones = [...new Set(minutes.map((m) => m.zone))].sort();
  const series = zones.map((zone, i) => ({
    name: zone,
    colour: COLOURS[i % COLOURS.length],
    points: Array.from({ length: 30 }, (_, k) => {
      const minute = now - 29 + k;
      const found = minutes.find((m) => Number(m.minute) === minute && m.zone === zone);
      return [k / 29, found ? found.turns : 0];
    }),
  }));
  lineChart($("traffic-chart"), series);
  $("traffic-legend").replaceChildren(...series.map((s) => el("span", `zone ${s.name}`, { style: `color:${s.colour}` })));
  const sum = (f) => minutes.reduce((a, m) => a + (m[f] || 0), 0);
  const turns = sum("turns");
  $("turns").textContent = String(turns);
  $("recognition").textContent = turns ? (100 * sum("answered") / turns).toFixed(1) + " %" : "–";
  $("handoffs").textContent = turns ? (100 * sum("handoffs") / turns).toFixed(1) + " %" : "–";
  $("fallbacks").textContent = turns ? (100 * sum("fallbacks") / turns).toFixed(1) + " %" : "–";
  const rate = Array.from({ length: 30 }, (_, k) => {
    const inMinute = minutes.filter((m) => Number(m.minute) === now - 29 + k);
    const all = inMinute.reduce((a, m) => a + m.turns, 0);
    return [k / 29, all ? inMinute.reduce((a, m) => a + m.answered, 0) / all : 0];
  });
  lineChart($("recognition-chart"), [{ name: "answered", colour: COLOURS[2], points: rate }], 1);
}

function showTrends(trends) {
  $("trends").tBodies[0].replaceChildren(...(trends.trends || []).map((t) => {
    const row = el("tr");
    row.append(el("td", t.kind), el("td", t.label), el("td", String(t.window_count)),
      el("td", Number(t.expected).toFixed(1)), el("td", Number(t.score).toFixed(1)));
    return row;
  }));
}

function showSatisfaction(satisfaction) {
  const svg = $("satisfaction-chart");
  svg.replaceChildren();
  const rows = (satisfaction.ratings || []).filter((r) => r.by === "intent").sort((a, b) => b.count - a.count).slice(0, 10);
  if (!rows.length) svg.append(el("text", "No feedback yet.", { x: 10, y: 24, "font-size": 14 }));
  rows.forEach((r, i) => {
    const y = 8 + i * 23;
    svg.append(el("text", `${r.key || "(none)"} (${r.count})`, { x: 2, y: y + 13, "font-size": 12 }));
    svg.append(el("rect", undefined, { x: 300, y, width: (r.mean / 5) * 280, height: 16, fill: COLOURS[0] }));
    svg.append(el("text", Number(r.mean).toFixed(2), { x: 305 + (r.mean / 5) * 280, y: y + 13, "font-size": 12 }));
  });
}

function showVersions(versions) {
  $("versions").tBodies[0].replaceChildren(...(versions.versions || []).slice().reverse().map((v) => {
    const row = el("tr");
    const state = v.active ? "active" : v.previous ? "previous" : "";
    const when = v.trained_at ? new Date(v.trained_at * 1000).toLocaleString() : "seed";
    const cell = el("td");
    if (!v.active) {
      const button = el("button", "Deploy", { "data-version": v.version, class: "deploy" });
      button.onclick = () => runJob("/api/deploy", { version: v.version }, `deploy of version ${v.version}`);
      cell.append(button);
    }
    row.append(el("td", v.version), el("td", state), el("td", when), cell);
    return row;
  }));
}

function submitted(proposal) {
  return `submitted for approval: ${proposal.summary} (proposal ${proposal.id})`;
}

async function runJob(path, payload, what) {
  try {
    let job = await api(path, { method: "POST", body: JSON.stringify(payload || {}) });
    if (job.proposal) {  // the user's role may only propose it
      $("job").textContent = `${what}: ${submitted(job.proposal)}`;
      await refresh();
      return;
    }
    $("job").textContent = `${what}: ${job.state}`;
    while (job.state === "QUEUED" || job.state === "RUNNING") {
      await new Promise((r) => setTimeout(r, 1000));
      job = await api(`/api/jobs/${encodeURIComponent(job.id)}`);
      $("job").textContent = `${what}: ${job.state}`;
    }
    $("job").textContent = `${what}: ${job.state} (${job.message})` + (job.kind === "train" ? ` version ${job.version}` : "");
    await refresh();
  } catch (e) {
    say(`${what} refused: ${e.message}`, true);
  }
}

function showClusters(reply) {
  const box = $("clusters");
  const clusters = reply.clusters || [];
  if (!clusters.length) { box.textContent = "No unrecognised questions grouped yet."; return; }
  box.replaceChildren(...clusters.map((c) => {
    const node = $("cluster-template").content.firstElementChild.cloneNode(true);
    node.dataset.cluster = c.id;
    node.querySelector(".label").textContent = c.label;
    node.querySelector(".size").textContent = `${c.size} questions`;
    node.querySelector(".examples").replaceChildren(...c.representatives.map((t) => el("li", t)));
    node.querySelector(".seen").textContent =
      `first ${new Date(c.first_seen * 1000).toLocaleString()}, last ${new Date(c.last_seen * 1000).toLocaleString()}`;
    const select = node.querySelector("select");
    select.replaceChildren(...faqIds.map((id) => el("option", id, { value: id })));
    if (c.suggested_faq) select.value = c.suggested_faq;
    const create = node.querySelector(".create");
    create.id.value = c.proposed_id || "";
    create.title.value = c.proposed_title || c.label;
    node.querySelector(".adopt").onsubmit = async (event) => {
      event.preventDefault();
      await change(`/api/clusters/${encodeURIComponent(c.id)}/adopt`, { faq_id: select.value }, "added to " + select.value);
    };
    create.onsubmit = async (event) => {
      event.preventDefault();
      const entry = { id: create.id.value, title: create.title.value, answer: create.answer.value };
      await change(`/api/clusters/${encodeURIComponent(c.id)}/create`, entry, "created FAQ " + entry.id);
    };
    return node;
  }));
}

async function change(path, payload, done) {
  try {
    const result = await api(path, { method: "POST", body: JSON.stringify(payload) });
    say(result.proposal ? submitted(result.proposal) : `${done}; train and deploy a new version to use it`);
    await refresh();
  } catch (e) {
    say(e.message, true);
  }
}

function showProposals(reply) {
  $("proposals").tBodies[0].replaceChildren(...(reply.proposals || []).slice(0, 20).map((p) => {
    const row = el("tr", undefined, { "data-proposal": p.id, "data-state": p.state });
    const decision = el("td");
    if (p.state === "PENDING") {
      const comment = el("input", undefined, { class: "comment", placeholder: "comment" });
      const approve = el("button", "Approve", { class: "approve" });
      const reject = el("button", "Reject", { class: "reject" });
      approve.onclick = () => decide(p, "approve", comment);
      reject.onclick = () => decide(p, "reject", comment);
      decision.append(comment, approve, reject);
    } else {
      const by = p.decided_by ? `${p.state.toLowerCase()} by ${p.decided_by}` : p.state.toLowerCase();
      decision.textContent = [by, p.comment, p.result].filter(Boolean).join("; ");
    }
    row.append(el("td", new Date(p.proposed_at * 1000).toLocaleString()), el("td", p.proposed_by), el("td", p.summary),
      el("td", p.reason), el("td", p.state, { class: "state" }), decision);
    return row;
  }));
}

async function decide(proposal, verb, input) {
  const comment = input.value;
  input.value = "";  // a comment being typed holds the list still: this one is sent
  try {
    const decided = await api(`/api/proposals/${encodeURIComponent(proposal.id)}/${verb}`,
      { method: "POST", body: JSON.stringify({ comment }) });
    say(`proposal ${decided.id} (${decided.summary}): ${decided.state}${decided.result ? ", " + decided.result : ""}`);
  } catch (e) {
    say(`${verb} refused: ${e.message}`, true);
  }
  await refresh();
}

const TRANSLATED = ["zh-Hant", "zh-Hans"];

function showFaqs(reply) {
  faqIds = (reply.faqs || []).map((f) => f.id);
  $("faqs").tBodies[0].replaceChildren(...(reply.faqs || []).map((f) => {
    const row = el("tr", undefined, { "data-faq": f.id });
    const spoken = ["en", ...TRANSLATED.filter((l) => ((f.translations || {})[l] || {}).answer)];
    const edit = el("button", "Edit", { class: "edit" });
    edit.onclick = () => openEditor(f.id);
    row.append(el("td", f.id), el("td", f.title), el("td", String((f.questions || []).length)),
      el("td", f.enabled ? "yes" : "no"), el("td", spoken.join(", "), { class: "languages" }), el("td", undefined));
    row.lastChild.append(edit);
    return row;
  }));
}

// The entry being edited, whole, as the API gave it (questions, tags, revision kept).
let editing = null;

async function openEditor(id) {
  try {
    editing = await api(`/api/faqs/${encodeURIComponent(id)}`);
  } catch (e) {
    say(e.message, true);
    return;
  }
  const form = $("faq-editor");
  $("faq-editor-id").textContent = id;
  for (const box of form.querySelectorAll("fieldset")) {
    const language = box.dataset.language;
    const text = language === "en" ? editing : (editing.translations || {})[language] || {};
    box.querySelector("[name=title]").value = text.title || "";
    box.querySelector("[name=answer]").value = text.answer || "";
    box.querySelector("[name=ivr]").value = (text.channel_answers || {}).ivr || "";
  }
  form.reason.value = "";
  form.hidden = false;
}

async function saveEditor(event) {
  event.preventDefault();
  const form = $("faq-editor");
  const faq = { ...editing, translations: { ...(editing.translations || {}) } };
  for (const box of form.querySelectorAll("fieldset")) {
    const language = box.dataset.language;
    const [title, answer, ivr] = ["title", "answer", "ivr"].map((n) => box.querySelector(`[name=${n}]`).value);
    const before = language === "en" ? faq : faq.translations[language] || {};
    const channels = { ...(before.channel_answers || {}) };
    if (ivr) channels.ivr = ivr; else delete channels.ivr;
    const text = { ...before, title, answer, channel_answers: channels };
    if (language === "en") Object.assign(faq, text);
    else if (title || answer || ivr || text.slot_answer) faq.translations[language] = text;
    else delete faq.translations[language];  // nothing left: it falls back as a whole
  }
  for (const name of ["updated_by", "updated_at"]) delete faq[name];
  try {
    const result = await api(`/api/faqs/${encodeURIComponent(faq.id)}`,
      { method: "POST", body: JSON.stringify({ faq, reason: form.reason.value }) });
    say(result.proposal ? submitted(result.proposal) : `FAQ ${result.id} saved (revision ${result.revision})`);
    form.hidden = true;
    editing = null;
    await refresh();
  } catch (e) {
    say(e.message, true);
  }
}

async function refresh() {
  if (!token) return;
  try {
    const [overview, faqs, clusters, proposals] = await Promise.all(
      [api("/api/overview"), api("/api/faqs"), api("/api/clusters"), api("/api/proposals")]);
    showTraffic(overview.traffic);
    showTrends(overview.trends);
    showSatisfaction(overview.satisfaction);
    showVersions(overview.versions);
    showFaqs(faqs);
    // Re-rendering the clusters would wipe an answer being typed: only when none is.
    if (![...document.querySelectorAll(".create textarea")].some((t) => t.value)) showClusters(clusters);
    if (![...document.querySelectorAll("#proposals .comment")].some((t) => t.value)) showProposals(proposals);
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    say("refresh failed: " + e.message, true);
  }
}

function signOut(message = "") {
  token = "";
  sessionStorage.removeItem("twinteller-token");
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
}

async function signIn(candidate) {
  token = candidate;
  try {
    await api("/api/faqs");
  } catch (e) {
    signOut(e.message);
    return;
  }
  sessionStorage.setItem("twinteller-token", token);
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  await refresh();
}

$("sign-in-form").onsubmit = (event) => { event.preventDefault(); signIn($("token").value); };
$("sign-out").onclick = () => signOut();
$("train").onclick = () => runJob("/api/train", {}, "train");
$("rollback").onclick = () => runJob("/api/rollback", {}, "rollback");
// A stored token is checked before the page shows the console or the sign-in form: a form
// shown meanwhile would take typing that the check's outcome then replaces.
if (token) {
  $("sign-in").hidden = true;
  signIn(token);
}
setInterval(refresh, 5000);
$("faq-editor").onsubmit = saveEditor;
$("faq-editor-close").onclick = () => { $("faq-editor").hidden = true; editing = null; };
