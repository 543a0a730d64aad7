// asara playground: controls -> scenario object -> POST /api/sie/run -> table and plots.
// The whole view lives in the URL (?preset=...&samples=...&seed=...&set=key=json), so a link reproduces it.
"use strict";

const INPUT_SLIDERS = [
  { key: "inputs.speedup", label: "initial speed-up f", min: 1, max: 100, log: true },
  { key: "inputs.returns", label: "returns to software R&D r\u2080", min: 0.1, max: 10, log: true },
  { key: "inputs.limit_years", label: "distance to the limit (years of progress)", min: 1, max: 40, log: false },
  { key: "inputs.parallel_penalty", label: "parallel penalty p", min: 0.05, max: 1, log: true },
];
const SETTING_SLIDERS = [
  { key: "horizon_months", label: "horizon (months after ASARA)", min: 6, max: 120, log: false, integer: true },
  { key: "software_share", label: "software share of progress s", min: 0.1, max: 1, log: false },
  { key: "recent_doubling_months", label: "software doubling time before ASARA (months)", min: 0.5, max: 12, log: true },
];
const VARIANTS = ["constant_r", "retraining", "initial_doubling", "ramp.shape"];
const STEPS = 1000;
const COLOURS = { 12: "#1f5fa8", 4: "#d9641e" };

const state = { preset: "paper-baseline", base: null, overrides: {}, samples: 100000, seed: 0, tab: "sie", persona: null };
let limits = null;
let runController = null;
let timer = null;
let lastRun = null;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- scenario object and URL

function getPath(obj, key) {
  return key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), obj);
}

function setPath(obj, key, value) {
  const parts = key.split(".");
  let node = obj;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part];
  }
  node[parts[parts.length - 1]] = value;
}

function scenarioObject() {
  const scenario = JSON.parse(JSON.stringify(state.base));
  for (const [key, value] of Object.entries(state.overrides)) setPath(scenario, key, value);
  if (Object.keys(state.overrides).length) scenario.name = `${state.preset}-modified`;
  return scenario;
}

function setOverride(key, value) {
  if (JSON.stringify(getPath(state.base, key)) === JSON.stringify(value)) delete state.overrides[key];
  else state.overrides[key] = value;
}

function writeUrl() {
  const params = new URLSearchParams();
  params.set("tab", state.tab);
  params.set("preset", state.preset);
  params.set("samples", String(state.samples));
  params.set("seed", String(state.seed));
  for (const [key, value] of Object.entries(state.overrides)) params.append("set", `${key}=${JSON.stringify(value)}`);
  if (state.persona) params.set("persona", state.persona);
  history.replaceState(null, "", `${location.pathname}?${params.toString()}`);
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  if (params.get("preset")) state.preset = params.get("preset");
  const samples = Number(params.get("samples"));
  if (Number.isInteger(samples) && samples > 0) state.samples = samples;
  const seed = Number(params.get("seed"));
  if (Number.isInteger(seed) && seed >= 0) state.seed = seed;
  if (params.get("tab") === "persona") state.tab = "persona";
  if (params.get("persona")) state.persona = params.get("persona");
  const overrides = {};
  for (const item of params.getAll("set")) {
    const at = item.indexOf("=");
    if (at <= 0) continue;
    try {
      overrides[item.slice(0, at)] = JSON.parse(item.slice(at + 1));
    } catch (error) {
      // a mangled link: ignore that one setting
    }
  }
  return overrides;
}

// ---------------------------------------------------------------- formatting

function sig(x, digits = 3) {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(digits));
}
const fmt4 = (x) => (x == null ? "–" : x.toFixed(4));
const fmtInt = (n) => Number(n).toLocaleString("en-US");

// ---------------------------------------------------------------- controls

function toSlider(spec, value) {
  const v = Math.min(Math.max(value, spec.min), spec.max);
  const u = spec.log ? Math.log(v / spec.min) / Math.log(spec.max / spec.min) : (v - spec.min) / (spec.max - spec.min);
  return Math.round(u * STEPS);
}

function fromSlider(spec, position) {
  const u = position / STEPS;
  const value = spec.log ? spec.min * Math.pow(spec.max / spec.min, u) : spec.min + u * (spec.max - spec.min);
  return spec.integer ? Math.round(value) : sig(value, value < 1 ? 2 : 3);
}

function rangeInput(id, spec, value, onInput) {
  const input = document.createElement("input");
  input.type = "range";
  input.id = id;
  input.min = "0";
  input.max = String(STEPS);
  input.step = "1";
  input.value = String(toSlider(spec, value));
  input.setAttribute("aria-label", `${spec.label} ${id.endsWith(".low") ? "low" : id.endsWith(".high") ? "high" : ""}`.trim());
  input.addEventListener("input", () => onInput(fromSlider(spec, Number(input.value)), input));
  return input;
}

function buildInputSliders() {
  const box = $("input-sliders");
  box.replaceChildren();
  const scenario = scenarioObject();
  for (const spec of INPUT_SLIDERS) {
    const dist = getPath(scenario, spec.key);
    const wrap = document.createElement("div");
    wrap.className = "slider";
    const name = document.createElement("div");
    name.className = "name";
    const title = document.createElement("span");
    title.textContent = dist && dist.kind ? `${spec.label} (${dist.kind})` : spec.label;
    const shown = document.createElement("span");
    shown.className = "value";
    shown.id = `${spec.key}.shown`;
    name.append(title, shown);
    wrap.append(name);
    if (dist && (dist.kind === "uniform" || dist.kind === "log-uniform")) {
      shown.textContent = `${sig(dist.low)} – ${sig(dist.high)}`;
      for (const end of ["low", "high"]) {
        const pair = document.createElement("label");
        pair.className = "pair";
        const tag = document.createElement("span");
        tag.textContent = end;
        const input = rangeInput(`${spec.key}.${end}`, spec, dist[end], (value, element) => {
          const current = getPath(scenarioObject(), spec.key);
          const other = end === "low" ? current.high : current.low;
          if ((end === "low" && value >= other) || (end === "high" && value <= other)) {
            element.value = String(toSlider(spec, current[end]));
            return;
          }
          setOverride(`${spec.key}.${end}`, value);
          const now = getPath(scenarioObject(), spec.key);
          shown.textContent = `${sig(now.low)} – ${sig(now.high)}`;
          changed();
        });
        pair.append(tag, input);
        wrap.append(pair);
      }
    } else {
      const fixed = document.createElement("div");
      fixed.className = "fixed";
      fixed.textContent = dist ? describe(dist) + " (edit it in the TOML file)" : "–";
      wrap.append(fixed);
    }
    box.append(wrap);
  }
}

function describe(dist) {
  const rest = Object.entries(dist).filter(([k]) => k !== "kind").map(([k, v]) => `${k}=${sig(v)}`);
  return `${dist.kind} ${rest.join(", ")}`;
}

function buildSettingSliders() {
  const box = $("setting-sliders");
  box.replaceChildren();
  const scenario = scenarioObject();
  for (const spec of SETTING_SLIDERS) {
    const value = getPath(scenario, spec.key);
    const wrap = document.createElement("div");
    wrap.className = "slider";
    const name = document.createElement("div");
    name.className = "name";
    const title = document.createElement("span");
    title.textContent = spec.label;
    const shown = document.createElement("span");
    shown.className = "value";
    shown.textContent = String(sig(value));
    name.append(title, shown);
    const input = rangeInput(spec.key, spec, value, (v) => {
      setOverride(spec.key, v);
      shown.textContent = String(v);
      changed();
    });
    wrap.append(name, input);
    box.append(wrap);
  }
}

function syncVariants() {
  const scenario = scenarioObject();
  $("constant_r").checked = Boolean(scenario.constant_r);
  for (const key of ["retraining", "initial_doubling", "ramp.shape"]) $(key).value = getPath(scenario, key);
  $("samples").value = String(state.samples);
  if (![...$("samples").options].some((o) => o.value === String(state.samples))) {
    const option = new Option(fmtInt(state.samples), String(state.samples));
    $("samples").add(option);
    $("samples").value = String(state.samples);
  }
  $("seed").value = String(state.seed);
}

function buildControls() {
  buildInputSliders();
  buildSettingSliders();
  syncVariants();
  const preset = presets.find((p) => p.name === state.preset);
  $("preset-description").textContent = preset ? preset.description : "";
}

// ---------------------------------------------------------------- API

async function api(path, body, signal) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const data = await response.json();
      message = data.field ? `${data.field}: ${data.error}` : data.error;
    } catch (error) {
      // not JSON
    }
    throw new Error(message);
  }
  return response;
}

function setStatus(element, text, kind) {
  element.textContent = text;
  element.className = `status ${kind || ""}`;
}

function showModified() {
  const keys = Object.keys(state.overrides);
  $("modified").textContent = keys.length ? `Changed from the preset: ${keys.join(", ")}` : "";
}

function changed() {
  showModified();
  if ($("explain-plot").data) {
    Plotly.purge("explain-plot");
    $("explain-note").textContent = "The scenario changed: press Explain to attribute the new difference.";
  }
  if ($("sensitivity-plot").data) {
    Plotly.purge("sensitivity-plot");
    $("sensitivity-note").textContent = "The scenario changed: press Compute for the new indices.";
  }
  writeUrl();
  clearTimeout(timer);
  timer = setTimeout(run, 120);
}

async function run() {
  if (runController) runController.abort();
  runController = new AbortController();
  const body = { scenario: scenarioObject(), samples: state.samples, seed: state.seed };
  setStatus($("status"), `Computing ${fmtInt(state.samples)} samples…`, "busy");
  const started = performance.now();
  try {
    const response = await api("/api/sie/run", body, runController.signal);
    const record = await response.json();
    const server = Number(response.headers.get("X-Compute-Seconds"));
    lastRun = record;
    renderTable(record);
    renderCdf(record);
    const total = (performance.now() - started) / 1000;
    setStatus(
      $("status"),
      `${fmtInt(record.samples)} samples, seed ${record.seed}: computed in ${server.toFixed(2)} s (page round trip ${total.toFixed(2)} s)`,
      "",
    );
    const reasons = Object.entries(record.end_reasons).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ");
    $("run-note").textContent = `Runs ended by: ${reasons}. Every probability is a Monte Carlo estimate; ± is one standard error.`;
  } catch (error) {
    if (error.name === "AbortError") return;
    setStatus($("status"), `Error: ${error.message}`, "error");
  }
}

function renderTable(record) {
  const body = $("cells").querySelector("tbody");
  body.replaceChildren();
  for (const cell of record.cells) {
    const row = document.createElement("tr");
    const values = [
      `${cell.years} years`,
      `${cell.months} months`,
      `${fmt4(cell.probability)} ± ${fmt4(cell.standard_error)}`,
      `[${fmt4(cell.wilson_95[0])}, ${fmt4(cell.wilson_95[1])}]`,
    ];
    values.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i >= 2) td.className = "num";
      row.append(td);
    });
    body.append(row);
  }
}

function renderCdf(record) {
  const traces = [];
  for (const [months, points] of Object.entries(record.years_compressed)) {
    const x = [0, ...points.map((p) => p.years)];
    const y = [1, ...points.map((p) => p.probability)];
    const se = [0, ...points.map((p) => p.standard_error)];
    const colour = COLOURS[months] || "#555";
    const upper = y.map((v, i) => Math.min(1, v + 1.96 * se[i]));
    const lower = y.map((v, i) => Math.max(0, v - 1.96 * se[i]));
    traces.push({ x, y: lower, mode: "lines", line: { width: 0, shape: "hv" }, hoverinfo: "skip", showlegend: false });
    traces.push({
      x, y: upper, mode: "lines", line: { width: 0, shape: "hv" }, fill: "tonexty",
      fillcolor: hexAlpha(colour, 0.25), hoverinfo: "skip", showlegend: false,
    });
    traces.push({
      x, y, mode: "lines", name: `within ${months} months`, line: { color: colour, width: 2, shape: "hv" },
      customdata: se, hovertemplate: `≥ %{x} years in ${months} months: %{y:.4f} ± %{customdata:.4f}<extra></extra>`,
    });
  }
  const layout = {
    title: { text: "Years of progress compressed into a window (band: ±1.96 SE)", font: { size: 14 } },
    xaxis: { title: { text: "years of progress (at least)" }, rangemode: "tozero" },
    yaxis: { title: { text: "probability" }, range: [0, 1.02] },
    margin: { t: 40, r: 10, b: 50, l: 60 },
    legend: { x: 0.98, xanchor: "right", y: 0.98 },
  };
  Plotly.react("cdf", traces, layout, { displaylogo: false, responsive: true });
}

function hexAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// ---------------------------------------------------------------- explanation

async function explainRun() {
  const baseline = $("explain-baseline").value;
  const samples = Number($("explain-samples").value);
  $("explain-note").textContent = "Computing…";
  try {
    const response = await api("/api/sie/explain", { baseline, scenario: scenarioObject(), samples, seed: state.seed });
    const data = await response.json();
    if (!data.changes.length) {
      $("explain-note").textContent = `This scenario makes the same assumptions as ${baseline}: nothing to explain.`;
      Plotly.purge("explain-plot");
      return;
    }
    renderWaterfall(data, baseline);
    $("explain-note").textContent =
      `Exact Shapley attribution of the change from ${baseline} to this scenario, ${fmtInt(samples)} samples per subset ` +
      `(common random numbers). The steps add up to the total change; whiskers are ±1.96 SE.`;
  } catch (error) {
    $("explain-note").textContent = `Error: ${error.message}`;
  }
}

function renderWaterfall(data, baseline) {
  const outputs = Object.entries(data.outputs);
  const traces = [];
  const rows = Math.ceil(outputs.length / 2);
  const layout = { grid: { rows, columns: 2, pattern: "independent", ygap: 0.42, xgap: 0.12 },
    margin: { t: 30, r: 40, b: 120, l: 50 }, showlegend: false, height: 380 * rows + 40,
    annotations: [] };
  outputs.forEach(([output, e], i) => {
    const axis = i === 0 ? "" : String(i + 1);
    const names = [baseline, ...e.attributions.map((a) => a.change), "this scenario"];
    const bases = [0];
    const values = [e.baseline];
    const errors = [0];
    let level = e.baseline;
    for (const a of e.attributions) {
      bases.push(level);
      values.push(a.value);
      errors.push(1.96 * a.standard_error);
      level += a.value;
    }
    bases.push(0);
    values.push(e.changed);
    errors.push(0);
    const colours = values.map((v, k) => (k === 0 || k === values.length - 1 ? "#5d6d7e" : v >= 0 ? "#2e8b57" : "#b03a48"));
    traces.push({
      type: "bar", x: names, y: values, base: bases, marker: { color: colours }, xaxis: `x${axis}`, yaxis: `y${axis}`,
      error_y: { type: "data", array: errors, visible: true, color: "#222" },
      hovertemplate: "%{x}: %{y:+.4f}<extra></extra>",
    });
    layout.annotations.push({
      text: (data.labels && data.labels[output]) || output, showarrow: false,
      xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0.5, y: 1.12, font: { size: 12 },
    });
  });
  Plotly.react("explain-plot", traces, layout, { displaylogo: false, responsive: true });
}

// ---------------------------------------------------------------- sensitivity

async function sensitivityRun() {
  const samples = Number($("sensitivity-samples").value);
  $("sensitivity-note").textContent = "Computing…";
  try {
    const response = await api("/api/sie/sensitivity", { scenario: scenarioObject(), samples, seed: state.seed, method: "sobol" });
    const data = await response.json();
    renderSensitivity(data);
    const fixed = data.fixed_inputs.length ? ` Fixed, so left out: ${data.fixed_inputs.join(", ")}.` : "";
    $("sensitivity-note").textContent =
      `Share of each result's variance explained by each input: alone (first order) and with its interactions ` +
      `(total). ${fmtInt(data.evaluations)} model runs; whiskers are bootstrap 95% intervals.${fixed}`;
  } catch (error) {
    $("sensitivity-note").textContent = `Error: ${error.message}`;
  }
}

function renderSensitivity(data) {
  const outputs = Object.entries(data.outputs).filter(([, rows]) => rows);
  const traces = [];
  const rows = Math.ceil(outputs.length / 2);
  const layout = { grid: { rows, columns: 2, pattern: "independent", ygap: 0.35, xgap: 0.2 },
    margin: { t: 30, r: 20, b: 40, l: 110 }, height: 260 * rows + 60, barmode: "group",
    legend: { orientation: "h", y: -0.08 }, annotations: [] };
  outputs.forEach(([output, records], i) => {
    const axis = i === 0 ? "" : String(i + 1);
    const names = records.map((r) => r.input);
    const series = [["first", "first order", "#1f5fa8"], ["total", "total", "#d9641e"]];
    for (const [key, label, colour] of series) {
      traces.push({
        type: "bar", orientation: "h", y: names, x: records.map((r) => r[key]), name: label,
        marker: { color: colour }, xaxis: `x${axis}`, yaxis: `y${axis}`, showlegend: i === 0,
        error_x: { type: "data", symmetric: false, visible: true, color: "#222",
          array: records.map((r) => Math.max(0, r[`${key}_ci`][1] - r[key])),
          arrayminus: records.map((r) => Math.max(0, r[key] - r[`${key}_ci`][0])) },
        hovertemplate: `%{y}: ${label} %{x:.3f}<extra></extra>`,
      });
    }
    layout[`yaxis${axis}`] = { autorange: "reversed" };
    layout.annotations.push({
      text: (data.labels && data.labels[output]) || output, showarrow: false,
      xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0.5, y: 1.14, font: { size: 12 },
    });
  });
  Plotly.react("sensitivity-plot", traces, layout, { displaylogo: false, responsive: true });
}

// ---------------------------------------------------------------- downloads

async function download(path, body, fallbackName) {
  $("download-note").textContent = "Preparing the file…";
  try {
    const response = await api(path, body);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = disposition.match(/filename="?([^";]+)"?/);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : fallbackName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    $("download-note").textContent = `Downloaded ${link.download}.`;
  } catch (error) {
    $("download-note").textContent = `Error: ${error.message}`;
  }
}

function downloadSamples(format) {
  const cap = limits ? limits.max_download_samples : 200000;
  const samples = Math.min(state.samples, cap);
  download("/api/sie/samples", { scenario: scenarioObject(), samples, seed: state.seed, format }, `samples.${format}`);
  if (samples < state.samples) {
    setTimeout(() => {
      $("download-note").textContent += ` (the first ${fmtInt(samples)} samples: downloads are capped on this server)`;
    }, 0);
  }
}

// ---------------------------------------------------------------- persona tab

let personaPresets = [];

async function personaRun() {
  const name = $("persona-preset").value;
  state.persona = name;
  writeUrl();
  const preset = personaPresets.find((p) => p.name === name);
  $("persona-description").textContent = preset ? preset.description : "";
  setStatus($("persona-status"), "Computing…", "busy");
  try {
    const response = await api("/api/persona/run", { scenario: name });
    const record = await response.json();
    const body = $("persona-shares").querySelector("tbody");
    body.replaceChildren();
    for (const [family, prior] of Object.entries(record.shares.prior)) {
      const row = document.createElement("tr");
      for (const [text, css] of [[family, "family"], [prior.toFixed(4), "num"], [record.shares.posterior[family].toFixed(4), "num"]]) {
        const td = document.createElement("td");
        td.textContent = text;
        td.className = css;
        row.append(td);
      }
      body.append(row);
    }
    const half = record.half_life == null ? "never (the misaligned share does not decay)" : `${sig(record.half_life)} documents`;
    $("persona-note").textContent =
      `${fmtInt(record.documents)} documents. Misaligned share ${sig(record.misaligned_share.prior)} → ${sig(record.misaligned_share.posterior)}; ` +
      `predicted misbehaviour ${sig(record.misbehaviour_rate.prior)} → ${sig(record.misbehaviour_rate.posterior)}; half-life ${half}. Exact (no sampling).`;
    renderPersona(record);
    setStatus($("persona-status"), `${record.scenario}: ${record.personas} personas, ${record.context_types} context types`, "");
  } catch (error) {
    setStatus($("persona-status"), `Error: ${error.message}`, "error");
  }
}

function renderPersona(record) {
  const x = record.curve.map((p) => p.documents);
  const traces = [{ x, y: record.curve.map((p) => p.misaligned_share), name: "misaligned (total)", mode: "lines+markers", line: { color: "#111", width: 3 } }];
  const families = Object.keys(record.curve.length ? record.curve[0].shares : {});
  const palette = ["#2e8b57", "#8e44ad", "#b03a48", "#1f5fa8", "#d9641e", "#5d6d7e", "#c9a227"];
  families.forEach((family, i) => {
    traces.push({ x, y: record.curve.map((p) => p.shares[family]), name: family, mode: "lines+markers", line: { dash: "dash", color: palette[i % palette.length] } });
  });
  const shapes = [];
  const annotations = [];
  if (record.half_life != null && record.half_life > 0) {
    shapes.push({ type: "line", x0: record.half_life, x1: record.half_life, yref: "paper", y0: 0, y1: 1, line: { color: "#b03a48", dash: "dot" } });
    annotations.push({ x: Math.log10(record.half_life), yref: "paper", y: 1, text: `half-life ${sig(record.half_life)}`, showarrow: false, xanchor: "left", font: { color: "#b03a48", size: 11 } });
  }
  Plotly.react("persona-plot", traces, {
    title: { text: "Posterior share against corpus size", font: { size: 14 } },
    xaxis: { type: "log", title: { text: "documents (log scale)" } },
    yaxis: { title: { text: "posterior share" }, range: [-0.02, 1.02] },
    margin: { t: 40, r: 10, b: 50, l: 60 }, shapes, annotations,
  }, { displaylogo: false, responsive: true });
}

// ---------------------------------------------------------------- wiring

let presets = [];

async function loadPreset(name, overrides) {
  const response = await api(`/api/sie/presets/${encodeURIComponent(name)}`);
  state.base = await response.json();
  state.preset = name;
  state.overrides = overrides || {};
  $("preset").value = name;
  buildControls();
  changed();
}

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tab")) button.classList.toggle("active", button.dataset.tab === tab);
  $("panel-sie").hidden = tab !== "sie";
  $("panel-persona").hidden = tab !== "persona";
  writeUrl();
  if (tab === "sie") Plotly.Plots.resize("cdf");
  if (tab === "persona" && !$("persona-plot").data) personaRun();
}

async function main() {
  const overrides = readUrl();
  limits = await (await api("/api/limits")).json();
  presets = await (await api("/api/sie/presets")).json();
  for (const p of presets) {
    $("preset").add(new Option(p.name, p.name));
    $("explain-baseline").add(new Option(p.name, p.name));
  }
  if (!presets.some((p) => p.name === state.preset)) state.preset = "paper-baseline";
  $("explain-baseline").value = "paper-baseline";
  $("footer").textContent =
    `asara ${limits.version} · at most ${fmtInt(limits.max_samples)} samples per run · ` +
    `runs stop after ${limits.timeout_seconds} s · everything is served by this machine (works offline)`;

  $("preset").addEventListener("change", () => loadPreset($("preset").value, {}));
  $("constant_r").addEventListener("change", () => { setOverride("constant_r", $("constant_r").checked); changed(); });
  for (const key of ["retraining", "initial_doubling", "ramp.shape"]) {
    $(key).addEventListener("change", () => { setOverride(key, $(key).value); changed(); });
  }
  $("samples").addEventListener("change", () => { state.samples = Number($("samples").value); changed(); });
  $("seed").addEventListener("change", () => {
    const seed = Number($("seed").value);
    if (Number.isInteger(seed) && seed >= 0) { state.seed = seed; changed(); }
  });
  $("reset").addEventListener("click", () => loadPreset(state.preset, {}));
  $("copy-link").addEventListener("click", async () => {
    writeUrl();
    try {
      await navigator.clipboard.writeText(location.href);
      $("download-note").textContent = "Link copied: it reproduces this view.";
    } catch (error) {
      $("download-note").textContent = `Link: ${location.href}`;
    }
  });
  $("download-toml").addEventListener("click", () => download("/api/sie/toml", { scenario: scenarioObject() }, "scenario.toml"));
  $("download-csv").addEventListener("click", () => downloadSamples("csv"));
  $("download-parquet").addEventListener("click", () => downloadSamples("parquet"));
  $("explain-run").addEventListener("click", explainRun);
  $("sensitivity-run").addEventListener("click", sensitivityRun);
  for (const button of document.querySelectorAll(".tab")) button.addEventListener("click", () => showTab(button.dataset.tab));

  personaPresets = await (await api("/api/persona/presets")).json();
  for (const p of personaPresets) $("persona-preset").add(new Option(p.name, p.name));
  if (state.persona && personaPresets.some((p) => p.name === state.persona)) $("persona-preset").value = state.persona;
  $("persona-preset").addEventListener("change", personaRun);

  await loadPreset(state.preset, overrides);
  if (state.tab === "persona") showTab("persona");
}

main().catch((error) => setStatus($("status"), `Error: ${error.message}`, "error"));
