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

function sparkline(svg, daily) {
  // Questions per day, oldest first: one bar a day.
  svg.replaceChildren();
  const top = Math.max(1, ...daily.map((d) => d.count || 0));
  daily.forEach((d, i) => {
    const height = Math.max(1, 22 * (d.count || 0) / top);
    const bar = el("rect", undefined, { x: i * 10, y: 23 - height, width: 8, height, fill: d.count ? "#1f77b4" : "#dde" });
    const tip = document.createElementNS("http://www.w3.org/2000/svg", "title");
    tip.textContent = `${new Date(d.day * 1000).toISOString().slice(0, 10)}: ${d.count || 0}`;
    bar.append(tip);
    svg.append(bar);
  });
}

function showClusters(reply) {
  const box = $("clusters");
  const clusters = reply.clusters || [];
  if (!clusters.length) { box.textContent = "No unrecognised questions grouped yet."; return; }
  const others = (c) => clusters.filter((o) => o.id !== c.id).map((o) => el("option", `${o.tag || o.label} (${o.size})`, { value: o.id }));
  box.replaceChildren(...clusters.map((c) => {
    const node = $("cluster-template").content.firstElementChild.cloneNode(true);
    node.dataset.cluster = c.id;
    node.querySelector(".tag").textContent = c.tag || c.label;
    node.querySelector(".label").textContent = c.tag ? `(${c.label})` : "";
    node.querySelector(".size").textContent = `${c.size} questions`;
    sparkline(node.querySelector(".daily"), c.daily || []);
    node.querySelector(".examples").replaceChildren(...c.representatives.map((t) => el("li", t)));
    node.querySelector(".seen").textContent =
      `first ${new Date(c.first_seen * 1000).toLocaleString()}, last ${new Date(c.last_seen * 1000).toLocaleString()}`;
    const select = node.querySelector(".adopt select");
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
    // The suggested split first: its side ticked, to take as it is or to change.
    const suggested = new Set((c.split && c.split.member_keys) || []);
    node.querySelector(".split-suggestion").textContent = c.split
      ? `Suggested: split off "${c.split.tag}" (${suggested.size}) from "${c.split.rest_tag}" (${c.size - suggested.size}); `
        + `the two sides are ${Math.round(c.split.distance * 100)} % apart.`
      : "Too small for a suggested split: tick the questions to split off.";
    node.querySelector(".members").replaceChildren(...c.members.map((m) => {
      const box = el("input", undefined, { type: "checkbox", value: m.key });
      box.checked = suggested.has(m.key);
      const label = el("label");
      label.append(box, " " + m.text);
      const item = el("li");
      item.append(label);
      return item;
    }));
    const ticked = () => [...node.querySelectorAll(".members input:checked")].map((b) => b.value);
    node.querySelector(".split").onclick = () =>
      correct(`/api/clusters/${encodeURIComponent(c.id)}/split`, { member_keys: ticked() }, "split; the new cluster shows after the next round");
    node.querySelector(".move-to").replaceChildren(...others(c));
    node.querySelector(".move").onclick = () => {
      const target = node.querySelector(".move-to").value;
      correct(`/api/clusters/${encodeURIComponent(target)}/move`, { member_keys: ticked() }, "moved");
    };
    node.querySelector(".merge-from").replaceChildren(...others(c));
    node.querySelector(".merge").onclick = () =>
      correct(`/api/clusters/${encodeURIComponent(c.id)}/merge`, { other_cluster_id: node.querySelector(".merge-from").value }, "merged");
    node.querySelector(".dismiss").onclick = () =>
      correct(`/api/clusters/${encodeURIComponent(c.id)}/dismiss`, {}, "dismissed: it will not be proposed again");
    return node;
  }));
}

function showClusterRules(reply) {
  $("cluster-rules").tBodies[0].replaceChildren(...(reply.rules || []).map((r) => {
    const undo = el("button", "Undo", { class: "undo", "data-rule": r.id });
    undo.onclick = () => correct(`/api/cluster-rules/${encodeURIComponent(r.id)}/delete`, {}, "undone");
    const cell = el("td");
    cell.append(undo);
    const row = el("tr");
    row.append(el("td", r.kind), el("td", r.cluster_id), el("td", r.by), el("td", new Date(r.at * 1000).toLocaleString()), cell);
    return row;
  }));
}

async function correct(path, payload, done) {
  // Corrections to the clusters are applied by the insights worker's next round.
  try {
    await api(path, { method: "POST", body: JSON.stringify(payload) });
    say(`${done}; the clusters update within a round of the insights worker`);
    document.querySelectorAll(".split-panel[open]").forEach((d) => { d.open = false; });
    await refresh();
  } catch (e) {
    say(e.message, true);
  }
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

// -- Release: the canary beside the active version, each version's figures ------------------

const percent = (x) => (100 * Number(x || 0)).toFixed(1) + " %";
const ms = (x) => Math.round(Number(x || 0)) + " ms";
const RATES = ["fallback_rate", "clarify_rate", "handoff_rate", "rephrase_rate", "error_rate"];

function showRelease(release) {
  $("release-error").textContent = release.error ? "release: " + release.error : "";
  if (release.error) return;
  $("release-active").textContent = release.active_version || "–";
  const canary = release.canary;
  const running = Boolean(canary && canary.state === "RUNNING");
  $("release-canary").dataset.state = canary ? canary.state : "";
  $("release-canary-version").textContent = canary ? canary.version : "none";
  $("release-canary-detail").textContent = canary
    ? `(${canary.percent} % of new conversations, beside ${canary.baseline || "–"}, since ${new Date(canary.started_at * 1000).toLocaleString()})`
    : "";
  $("release-canary-state").textContent = canary ? canary.state : "–";
  $("release-canary-by").textContent = canary && canary.updated_by && canary.state !== "RUNNING"
    ? `by ${canary.updated_by} at ${new Date(canary.updated_at * 1000).toLocaleString()}` : "";
  const reason = $("release-canary-reason");
  reason.hidden = !(canary && canary.reason);
  reason.dataset.guard = String(Boolean(canary && canary.by_guard));
  reason.className = canary && canary.by_guard ? "reason guard" : "reason";
  reason.textContent = !canary || !canary.reason ? ""
    : canary.by_guard ? `Aborted by the canary guard: ${canary.reason}` : `Reason: ${canary.reason}`;
  $("release-actions").hidden = !running;
  const active = (release.versions || []).find((v) => v.part === "active");
  const margin = running && canary.thresholds ? Number(canary.thresholds.margin || 0) : null;
  $("release-figures").tBodies[0].replaceChildren(...(release.versions || []).map((v) => {
    const row = el("tr", undefined, { "data-version": v.version, class: v.part });
    const rate = (field) => {
      const worse = margin !== null && active && v.part === "canary" && v[field] > active[field] + margin;
      return el("td", percent(v[field]), worse ? { class: "worse", "data-field": field } : { "data-field": field });
    };
    row.append(el("td", v.version), el("td", v.part), el("td", String(v.turns), { "data-field": "turns" }),
      ...RATES.map(rate),
      el("td", v.ratings ? `${percent(v.low_rating_rate)} of ${v.ratings}` : "–", { "data-field": "low_rating_rate" }),
      el("td", ms(v.p50_ms), { "data-field": "p50_ms" }), el("td", ms(v.p99_ms), { "data-field": "p99_ms" }));
    return row;
  }));
  $("release-since").textContent = release.since
    ? `figures since ${new Date(release.since * 1000).toLocaleString()}; asked again: the answer's question asked again at once; low ratings: 1 or 2 of 5`
    : "";
}

async function releaseChange(verb, payload) {
  try {
    const release = await api(`/api/release/${verb}`, { method: "POST", body: JSON.stringify(payload) });
    showRelease(release);
    say(`canary ${release.canary ? release.canary.state.toLowerCase() : verb}: active version ${release.active_version}`);
  } catch (e) {
    say(`${verb} refused: ${e.message}`, true);
  }
  await refresh();
}

function promoteCanary() {
  return releaseChange("promote", {});
}

function abortCanary() {
  const reason = $("release-abort-reason").value.trim();
  if (!reason) {
    say("abort: say why (it goes into the audit trail)", true);
    $("release-abort-reason").focus();
    return undefined;
  }
  $("release-abort-reason").value = "";
  return releaseChange("abort", { reason });
}

// -- Conversation tests: the suites, one suite's file, the editor -----------------------------

let armedDelete = "";  // the suite whose Delete was clicked once: the second click deletes it

function showTests(reply) {
  $("tests-error").textContent = reply.error ? "conversation tests: " + reply.error : "";
  if (reply.error) return;
  const suites = reply.suites || [];
  if (!suites.some((s) => s.name === armedDelete)) armedDelete = "";
  $("tests-list").tBodies[0].replaceChildren(...suites.map((s) => {
    const row = el("tr", undefined, { "data-suite": s.name });
    const view = el("button", "View", { class: "view", type: "button" });
    const edit = el("button", "Edit", { class: "edit", type: "button" });
    const remove = el("button", s.name === armedDelete ? "Confirm delete" : "Delete", { class: "delete", type: "button" });
    view.onclick = () => viewSuite(s.name, false);
    edit.onclick = () => viewSuite(s.name, true);
    remove.onclick = () => deleteSuite(s.name, remove);
    const when = s.updated_at ? new Date(s.updated_at * 1000).toLocaleString() : "";
    row.append(el("td", s.name), el("td", s.description), el("td", String(s.cases)), el("td", String(s.revision)),
      el("td", s.updated_by), el("td", when), el("td"));
    row.lastChild.append(view, edit, remove);
    return row;
  }));
}

function testsSay(text, error = false) {
  $("tests-result").textContent = text;
  $("tests-result").className = error ? "status error" : "status";
}

async function viewSuite(name, intoEditor) {
  try {
    const suite = await api(`/api/tests/${encodeURIComponent(name)}`);
    if (intoEditor) {
      $("tests-editor").value = suite.content;
      testsSay(`suite ${name} in the editor: change it, check it, propose it`);
      $("tests-editor").focus();
      return;
    }
    $("tests-view-name").textContent = name;
    $("tests-view-content").textContent = suite.content;
    $("tests-view").hidden = false;
  } catch (e) {
    say(e.message, true);
  }
}

function suiteFile() {
  return { content: $("tests-editor").value, reason: $("tests-reason").value };
}

async function checkSuites() {
  try {
    const checked = await api("/api/tests/check", { method: "POST", body: JSON.stringify(suiteFile()) });
    const suites = checked.suites || [];
    testsSay("the file is good: " + suites.map((s) => `${s.name} (${s.cases} case${s.cases === 1 ? "" : "s"})`).join(", "));
  } catch (e) {
    testsSay("the file is refused: " + e.message, true);
  }
}

async function proposeSuites(event) {
  event.preventDefault();
  try {
    const result = await api("/api/tests", { method: "POST", body: JSON.stringify(suiteFile()) });
    testsSay(result.proposal ? submitted(result.proposal)
      : "saved: " + (result.suites || []).map((s) => `${s.name} (revision ${s.revision})`).join(", "));
    $("tests-editor").value = "";
    $("tests-reason").value = "";
    await refresh();
  } catch (e) {
    testsSay("refused: " + e.message, true);
  }
}

async function deleteSuite(name, button) {
  if (armedDelete !== name) {
    armedDelete = name;
    button.textContent = "Confirm delete";
    return;
  }
  armedDelete = "";
  try {
    const result = await api(`/api/tests/${encodeURIComponent(name)}/delete`,
      { method: "POST", body: JSON.stringify({ reason: $("tests-reason").value }) });
    testsSay(result.proposal ? submitted(result.proposal) : `suite ${name} deleted`);
  } catch (e) {
    testsSay(`delete of ${name} refused: ${e.message}`, true);
  }
  await refresh();
}

// -- Moving in from another platform: check an export (the report), then import it ------------

const MAX_EXPORT = 20 * 1024 * 1024;  // the console's limit (console/webapp.py MAX_EXPORT)

function platformSay(text, error = false) {
  $("platform-result").textContent = text;
  $("platform-result").className = error ? "status error" : "status";
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);  // data:<type>;base64,<content>
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(new Error(`${file.name}: could not be read (${reader.error})`));
    reader.readAsDataURL(file);
  });
}

const plural = (n, one, many = one + "s") => `${n} ${n === 1 ? one : many}`;

function listed(label, items, none) {
  return items.length ? `${label}: ${items.join(", ")}` : none;
}

function showPlatformReport(result, dryRun, overwrite) {
  const report = result.report || {};
  const platform = result.platform || report.platform || "?";
  $("platform-summary").textContent = `${platform} export, `
    + (result.detected ? "the platform told by its content" : "the platform as chosen")
    + (report.text ? `; report: ${report.text}` : "");
  const counts = Object.entries(report.counts || {});
  $("platform-counts").tBodies[0].replaceChildren(...counts.map(([kind, c]) => {
    const row = el("tr", undefined, { "data-kind": kind });
    const short = Number(c.imported) < Number(c.present);
    row.append(el("td", kind), el("td", String(c.present)), el("td", String(c.imported), short ? { class: "short" } : {}));
    return row;
  }));
  const omitted = (report.omitted || []).map((o) => {
    const row = el("tr");
    row.append(el("td", o.where), el("td", o.what), el("td", o.reason));
    return row;
  });
  if (!omitted.length) {
    const row = el("tr", undefined, { class: "none" });
    row.append(el("td", "nothing: everything in the export came across", { colspan: 3 }));
    omitted.push(row);
  }
  $("platform-omitted").tBodies[0].replaceChildren(...omitted);
  const ids = result.faq_ids || [];
  const lexicon = result.lexicon_entries || 0;
  $("platform-ids").textContent = `${dryRun ? "Would write" : "Written"}: ${plural(ids.length, "FAQ entry", "FAQ entries")}`
    + (ids.length ? ` (${ids.join(", ")})` : "") + `, ${plural(lexicon, "lexicon term")}.`;
  const collisions = result.collisions || [];
  $("platform-collisions").className = collisions.length ? "error" : "";
  $("platform-collisions").textContent = listed(
    overwrite
      ? "Collisions (existing entries or terms not made by an earlier import of this platform), overwritten"
      : "Collisions (existing entries or terms not made by an earlier import of this platform; tick \"overwrite colliding entries\" to replace them)",
    collisions, "No collisions.");
  $("platform-updated").textContent = listed(
    `${dryRun ? "Would update" : "Updated"} (made by an earlier import of this platform)`, result.updated || [],
    "Nothing made by an earlier import is updated.");
  $("platform-report").hidden = false;
}

async function importPlatform(dryRun) {
  const file = $("platform-file").files[0];
  if (!file) {
    platformSay("choose the export first (a folder: zip it first)", true);
    return;
  }
  if (file.size > MAX_EXPORT) {
    platformSay(`${file.name}: ${file.size} bytes, at most ${MAX_EXPORT} (20 MiB)`, true);
    return;
  }
  const buttons = [$("platform-check"), $("platform-import")];
  buttons.forEach((b) => { b.disabled = true; });
  $("platform-report").hidden = true;
  platformSay(`${dryRun ? "checking" : "importing"} ${file.name}…`);
  try {
    const payload = {
      content_base64: await readBase64(file), filename: file.name, platform: $("platform-format").value,
      dry_run: dryRun, overwrite: $("platform-overwrite").checked, reason: $("platform-reason").value,
    };
    const result = await api("/api/import-platform", { method: "POST", body: JSON.stringify(payload) });
    if (result.proposal) {  // the user's role may only propose it
      platformSay(submitted(result.proposal));
      $("platform-reason").value = "";
      await refresh();
      return;
    }
    showPlatformReport(result, dryRun, payload.overwrite);
    const entries = plural((result.faq_ids || []).length, "FAQ entry", "FAQ entries");
    const terms = plural(result.lexicon_entries || 0, "lexicon term");
    if (dryRun) {
      platformSay(`checked, nothing written: ${entries} and ${terms} would be imported`);
      return;
    }
    platformSay(`imported ${entries} and ${terms}; train and deploy a new version to use them`);
    $("platform-reason").value = "";
    await refresh();
  } catch (e) {
    platformSay(`${dryRun ? "the export is refused" : "import refused"}: ${e.message}`, true);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

async function refresh() {
  if (!token) return;
  try {
    // A router without release safety yet (a rolling upgrade) leaves the rest of the page live.
    const apart = (path) => api(path).catch((e) => ({ error: e.message }));
    const [overview, faqs, clusters, proposals, release, tests, rules] = await Promise.all(
      [api("/api/overview"), api("/api/faqs"), api("/api/clusters"), api("/api/proposals"),
        apart("/api/release"), apart("/api/tests"), apart("/api/cluster-rules")]);
    showTraffic(overview.traffic);
    showTrends(overview.trends);
    showSatisfaction(overview.satisfaction);
    showVersions(overview.versions);
    showFaqs(faqs);
    // Re-rendering the clusters would wipe an answer being typed or a split being chosen.
    const busy = [...document.querySelectorAll(".create textarea")].some((t) => t.value)
      || document.querySelector(".split-panel[open]");
    if (!busy) showClusters(clusters);
    if (!rules.error) showClusterRules(rules);
    if (![...document.querySelectorAll("#proposals .comment")].some((t) => t.value)) showProposals(proposals);
    showRelease(release);
    showTests(tests);
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
$("release-promote").onclick = promoteCanary;
$("release-abort").onclick = abortCanary;
$("tests-check").onclick = checkSuites;
$("tests-form").onsubmit = proposeSuites;
$("tests-view-close").onclick = () => { $("tests-view").hidden = true; };
$("platform-check").onclick = () => importPlatform(true);
$("platform-form").onsubmit = (event) => { event.preventDefault(); importPlatform(false); };
