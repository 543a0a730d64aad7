// asara playground: controls -> scenario object -> POST /api/sie/run -> table and plots.
// The whole view lives in the URL (?preset=...&samples=...&seed=...&set=key=json), so a link reproduces it.
"use strict";

// The sliders and the scenario keys' plain names come from the model's declarations (GET /api/sie/parameters,
// read once at start-up by useParameters): each declared setting's label, and for one with a slider its range.
let INPUT_SLIDERS = []; // the paper's uncertain inputs (always distributions): low/high sliders
let SETTING_SLIDERS = []; // top-level numbers
// Extension parameters that a scenario may give as a distribution: each then is an uncertain input of its own
// and gets low/high sliders (the range widens to take in the scenario's own values).
let OPTION_SLIDERS = [];
// The settings sliders' order on the page (declared settings not named here follow, in declaration order).
const SETTING_ORDER = ["horizon_months", "software_share", "recent_doubling_months"];
// Plain names for scenario keys (what "Changed from the preset" and the read-only list show): the scenario's
// structure here, every declared setting's label added by useParameters.
const LABELS = {
  name: "name", description: "description", windows_months: "windows (months)", cells: "table cells",
  correlations: "rank correlations between inputs",
};
// Uncertain inputs by their model name (as correlations and the sensitivity answer name them).
const INPUT_LABELS = {};
const VARIANTS = ["constant_r", "retraining", "initial_doubling", "ramp.shape"];
// Davidson & Houlden (2025), paper-baseline: the numbers the paper publishes for its four cells.
const PUBLISHED = { p_3y_12mo: 0.57, p_3_33y_4mo: 0.41, p_10y_12mo: 0.18, p_10y_4mo: 0.12 };
// Settings sections edited by number boxes ("every other setting"); the ramp's also sit under its shape.
const SECTIONS = ["ramp", "compute", "bottlenecks", "continual_learning", "data"];
const RAMP_KEYS = ["ramp.months", "ramp.lead_months", "ramp.start_speedup", "ramp.horizon_includes_ramp"];
const STEPS = 1000;
const COLOURS = { 12: "#1f5fa8", 4: "#d9641e" };
const MAX_SEED = 2n ** 63n - 1n;
const END_REASONS = {
  horizon: "the horizon ran out first",
  ceiling: "the run reached the effective limit (all doublings done, or r fell to 0)",
  overflow: "the next doubling time grew too long to represent as a number (r nearly 0 close to the ceiling), " +
    "so progress stopped for good; such runs are counted, never dropped",
};

// The seed is kept as a string of digits: seeds go up to 2^63 - 1, beyond what a JS number holds exactly.
const state = { preset: "paper-baseline", base: null, overrides: {}, samples: 100000, seed: "0", tab: "sie", persona: null };
let limits = null;
let runController = null;
let timer = null;
let lastRun = null;
let lastExplain = null;
let lastSensitivity = null;
let lastPersona = null;
let lastReference = null;
let lastPaired = null;
let lastTakeoff = null;
// When the first plot (and the latest one) appeared, in ms since navigation: the browser tests read these.
window.plotTimes = { first: null, last: null, count: 0 };
let baselineDocument = null;
let seedError = "";

// The model's declared settings (GET /api/sie/parameters) as labels and slider specs.
function useParameters(declared) {
  const slider = (p) => ({
    key: p.key, input: p.input, label: p.label, min: p.slider.low, max: p.slider.high, log: p.slider.log,
    integer: p.slider.integer,
  });
  for (const p of declared.parameters) {
    LABELS[p.key] = p.label;
    if (p.input) INPUT_LABELS[p.input] = p.label;
  }
  const sliders = declared.parameters.filter((p) => p.slider);
  INPUT_SLIDERS = sliders.filter((p) => p.type === "distribution").map(slider);
  OPTION_SLIDERS = sliders.filter((p) => p.type === "number" && p.input).map(slider);
  const rank = (key) => (SETTING_ORDER.includes(key) ? SETTING_ORDER.indexOf(key) : SETTING_ORDER.length);
  SETTING_SLIDERS = sliders.filter((p) => p.type === "number" && !p.input && !p.key.includes("."))
    .map(slider).sort((a, b) => rank(a.key) - rank(b.key));
}

// plotly.min.js (preloaded by the page) runs only when the first plot is drawn: the script is added then,
// so the table drawn in the same step is painted before plotly's two seconds of start-up.
let plotlyLoading = null;
function plotlyReady() {
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      if (window.Plotly) { resolve(window.Plotly); return; }
      const tag = document.createElement("script");
      tag.src = "/static/plotly.min.js";
      tag.id = "plotly-js";
      tag.addEventListener("load", () => resolve(window.Plotly));
      tag.addEventListener("error", () => reject(new Error("plotly.js did not load")));
      // After the next frame is painted: the table set just before this call shows first.
      requestAnimationFrame(() => setTimeout(() => document.head.appendChild(tag), 0));
    });
  }
  return plotlyLoading;
}

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

// What the link asked for that the page could not use, in words (shown as a notice; the page then shows
// the default instead and rewrites the URL, so a copied link is a valid one).
const urlProblems = [];
const URL_PARAMS = new Set(["tab", "preset", "samples", "seed", "set", "persona"]);
const DEFAULT_SAMPLES = 100000;

function readUrl() {
  const params = new URLSearchParams(location.search);
  if (params.get("preset")) state.preset = params.get("preset");
  const samplesText = params.get("samples");
  if (samplesText !== null) {
    const samples = /^\s*[0-9]+\s*$/.test(samplesText) ? Number(samplesText) : NaN;
    if (Number.isSafeInteger(samples) && samples > 0) state.samples = samples;
    else urlProblems.push(`The link's samples “${samplesText}” is not a whole number of at least 1: using ${fmtInt(state.samples)} instead.`);
  }
  const seed = params.get("seed");
  if (seed !== null) {
    if (!checkSeed(seed)) state.seed = BigInt(seed.trim()).toString();
    else {
      urlProblems.push(`The link's seed “${seed}” is not a whole number from 0 to ${MAX_SEED.toLocaleString("en-US")}: ` +
        `using seed ${state.seed} instead.`);
    }
  }
  const tab = params.get("tab");
  if (tab === "persona") state.tab = "persona";
  else if (tab !== null && tab !== "sie") urlProblems.push(`The link's tab “${tab}” does not exist: showing the SIE tab.`);
  if (params.get("persona")) state.persona = params.get("persona");
  const overrides = {};
  for (const item of params.getAll("set")) {
    const at = item.indexOf("=");
    try {
      if (at <= 0) throw new Error("no key");
      overrides[item.slice(0, at)] = JSON.parse(item.slice(at + 1));
    } catch (error) {
      urlProblems.push(`The link's setting “${item}” is not of the form key=JSON value: it was left out.`);
    }
  }
  const unknown = [...new Set(params.keys())].filter((key) => !URL_PARAMS.has(key));
  if (unknown.length) urlProblems.push(`The link's ${unknown.map((k) => `“${k}”`).join(", ")} ${unknown.length === 1 ? "is" : "are"} not a setting of this page: ignored.`);
  return overrides;
}

// The link's samples against this server's cap (known only once /api/limits has answered).
function checkUrlSamples() {
  if (state.samples <= limits.max_samples) return;
  const fallback = Math.min(DEFAULT_SAMPLES, limits.max_samples);
  urlProblems.push(`The link asks for ${fmtInt(state.samples)} samples; this server allows at most ` +
    `${fmtInt(limits.max_samples)} per run: using ${fmtInt(fallback)} instead.`);
  state.samples = fallback;
}

// ---------------------------------------------------------------- formatting

function sig(x, digits = 3) {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(digits));
}
const fmt4 = (x) => (x == null ? "–" : x.toFixed(4));
const fmtInt = (n) => Number(n).toLocaleString("en-US");
const plural = (n, word, many) => `${fmtInt(n)} ${Number(n) === 1 ? word : many || `${word}s`}`;

// One style for shares and rates: plain decimals with `digits` significant digits from 0.001 up,
// scientific notation (1.0e-6) below that, so 0.000001 and 1e-12 never sit side by side.
function fmtNum(x, digits = 3) {
  if (x == null || !Number.isFinite(x)) return "–";
  if (x === 0) return "0";
  const size = Math.abs(x);
  if (size >= 1e-3 && size < 1e6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1).replace("e+", "e");
}

// A count of documents: whole numbers with separators up to a billion, then scientific notation.
function fmtCount(x) {
  if (x == null || !Number.isFinite(x)) return "–";
  return Math.abs(x) < 1e9 ? Math.round(x).toLocaleString("en-US") : x.toExponential(2).replace("e+", "e");
}

// null when `text` is a seed the API accepts (an integer 0 .. 2^63 - 1), else what is wrong with it.
function checkSeed(text) {
  const value = String(text).trim();
  const range = `a whole number from 0 to ${MAX_SEED.toLocaleString("en-US")}`;
  if (value === "") return `Enter a seed: ${range}.`;
  if (!/^[0-9]+$/.test(value)) return `The seed must be ${range} (no sign, decimals or exponent).`;
  if (BigInt(value) > MAX_SEED) return `The seed must be at most ${MAX_SEED.toLocaleString("en-US")}.`;
  return null;
}

// A request body as JSON, with the seed written out exactly (it may be larger than 2^53).
function withSeed(body) {
  const text = JSON.stringify(body);
  return `${text.slice(0, -1)}${Object.keys(body).length ? "," : ""}"seed":${state.seed}}`;
}

// An uncertain input by its model name (as correlations and the sensitivity answer name it).
function inputLabel(name) {
  return INPUT_LABELS[name] || name;
}

function labelFor(key) {
  if (LABELS[key]) return LABELS[key];
  const at = key.lastIndexOf(".");
  if (at > 0 && LABELS[key.slice(0, at)]) return `${LABELS[key.slice(0, at)]} (${key.slice(at + 1)})`;
  return key;
}

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
  // A screen reader reads the value, not the slider's 0-1000 position.
  input.setAttribute("aria-valuetext", String(spec.integer ? value : sig(value)));
  // A box beside the slider for an exact value (any value the model accepts, also outside the slider's range).
  const box = document.createElement("input");
  box.type = "number";
  box.step = "any";
  box.className = "numbox";
  box.id = `${id}.box`;
  box.value = String(value);
  box.setAttribute("aria-label", `${input.getAttribute("aria-label")} (exact value)`);
  const apply = (next) => {
    onInput(next, input);
    const now = getPath(scenarioObject(), id);
    if (typeof now === "number") {
      box.value = String(now);
      input.value = String(toSlider(spec, now));
      input.setAttribute("aria-valuetext", String(sig(now)));
    }
  };
  input.addEventListener("input", () => {
    // Back at the preset's position, the slider gives the preset's own value (not a rounded neighbour), so the
    // setting no longer counts as changed.
    const base = getPath(state.base, id);
    const position = Number(input.value);
    const next = typeof base === "number" && toSlider(spec, base) === position ? base : fromSlider(spec, position);
    input.setAttribute("aria-valuetext", String(next));
    onInput(next, input);
    box.value = String(getPath(scenarioObject(), id) ?? next);
  });
  box.addEventListener("change", () => {
    const typed = Number(box.value);
    if (box.value.trim() === "" || !Number.isFinite(typed)) { box.value = String(getPath(scenarioObject(), id)); return; }
    apply(spec.integer ? Math.round(typed) : typed);
  });
  const wrap = document.createElement("span");
  wrap.className = "range-pair";
  wrap.append(input, box);
  return wrap;
}

function isDistribution(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value) && typeof value.kind === "string";
}

// The extension parameters this scenario gives as distributions, each with a slider range that holds them.
function uncertainOptionSpecs(scenario) {
  const specs = [];
  for (const spec of OPTION_SLIDERS) {
    const dist = getPath(scenario, spec.key);
    if (!isDistribution(dist) || dist.kind === "fixed") continue;
    const log = dist.kind === "log-uniform";
    let { min, max } = spec;
    if (Number.isFinite(dist.low)) min = Math.min(min, dist.low);
    if (Number.isFinite(dist.high)) max = Math.max(max, dist.high);
    if (log && min <= 0) min = 1e-3;
    specs.push({ ...spec, min, max, log });
  }
  return specs;
}

function buildInputSliders() {
  const scenario = scenarioObject();
  fillSliders($("input-sliders"), INPUT_SLIDERS, scenario);
  fillSliders($("option-sliders"), uncertainOptionSpecs(scenario), scenario);
}

function fillSliders(box, specs, scenario) {
  box.replaceChildren();
  for (const spec of specs) {
    const dist = getPath(scenario, spec.key);
    const wrap = document.createElement("div");
    wrap.className = "slider";
    const name = document.createElement("div");
    name.className = "name";
    const title = document.createElement("span");
    title.textContent = isDistribution(dist) ? `${spec.label} (${dist.kind})` : spec.label;
    const shown = document.createElement("span");
    shown.className = "value";
    shown.id = `${spec.key}.shown`;
    name.append(title, shown);
    wrap.append(name);
    if (dist && (dist.kind === "uniform" || dist.kind === "log-uniform")) {
      shown.textContent = `${sig(dist.low)} – ${sig(dist.high)}`;
      const hint = document.createElement("p");
      hint.className = "slider-hint";
      hint.id = `${spec.key}.hint`;
      hint.setAttribute("role", "status");
      hint.hidden = true;
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
            element.setAttribute("aria-valuetext", String(sig(current[end])));
            flashHint(hint, end === "low" ? `low must stay below high (${sig(other)})` : `high must stay above low (${sig(other)})`);
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
      wrap.append(hint);
    } else {
      const fixed = document.createElement("div");
      fixed.className = "fixed";
      fixed.textContent = dist === undefined ? "–" : isDistribution(dist) ? `${describe(dist)} (edit it in the TOML file)` :
        `${JSON.stringify(dist)}: not a distribution, which the model rejects (an uncertain input needs a kind, ` +
        `e.g. {"kind": "uniform", "low": …, "high": …}); use Reset to preset or edit it in the TOML file`;
      if (!isDistribution(dist) && dist !== undefined) fixed.classList.add("warning");
      wrap.append(fixed);
    }
    box.append(wrap);
  }
}

// A short message under a slider that goes away by itself (e.g. why a handle snapped back).
function flashHint(element, text) {
  element.textContent = text;
  element.hidden = false;
  clearTimeout(element.hideTimer);
  element.hideTimer = setTimeout(() => { element.hidden = true; }, 2500);
}

function describe(dist) {
  if (!isDistribution(dist)) return JSON.stringify(dist);
  if (dist.kind === "fixed") return `fixed ${sig(dist.value)}`;
  if ((dist.kind === "uniform" || dist.kind === "log-uniform") && Object.keys(dist).length === 3) {
    return `${dist.kind} ${sig(dist.low)} – ${sig(dist.high)}`;
  }
  const rest = Object.entries(dist).filter(([k]) => k !== "kind").map(([k, v]) => `${k} ${typeof v === "number" ? sig(v) : v}`);
  return `${dist.kind} (${rest.join(", ")})`;
}

// Every value of the scenario outside the controls, as dotted keys (a distribution or a list is one value).
function flatten(node, prefix, out) {
  for (const [key, value] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && !isDistribution(value)) flatten(value, path, out);
    else out[path] = value;
  }
  return out;
}

function describeValue(key, value) {
  if (isDistribution(value)) return describe(value);
  // JSON has no infinity: the API writes an unbounded setting as the string "Infinity".
  if (value === "Infinity" || value === Infinity) return key === "compute.halving_years" ? "never (\u221e)" : "\u221e";
  if (key === "correlations" && Array.isArray(value)) {
    return value.length ? value.map((c) => `${c.inputs.map(inputLabel).join(" and ")}: ${c.rank}`).join("; ") : "none";
  }
  if (key === "cells" && Array.isArray(value)) return value.map((c) => `≥${c.years} years in ≤${c.months} months`).join("; ");
  if (Array.isArray(value)) return value.join(", ");
  if (value === null) return "unset";
  return typeof value === "number" ? String(sig(value)) : String(value);
}

// The scenario's settings that no control shows and that differ from paper-baseline, read-only.
function buildScenarioOptions() {
  const list = $("scenario-options-list");
  list.replaceChildren();
  if (!baselineDocument) return;
  const scenario = scenarioObject();
  const controlled = new Set([
    "name", "description", ...VARIANTS, ...SETTING_SLIDERS.map((s) => s.key),
    ...INPUT_SLIDERS.map((s) => s.key), ...uncertainOptionSpecs(scenario).map((s) => s.key),
  ]);
  const mine = flatten(scenario, "", {});
  const theirs = flatten(baselineDocument, "", {});
  for (const [key, value] of Object.entries(mine)) {
    if (controlled.has(key) || JSON.stringify(value) === JSON.stringify(theirs[key])) continue;
    const item = document.createElement("li");
    item.textContent = `${labelFor(key)}: ${describeValue(key, value)} (paper-baseline: ${describeValue(key, theirs[key])})`;
    item.dataset.key = key;
    list.append(item);
  }
  $("scenario-options").hidden = !list.children.length;
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
  syncRamp();
  $("samples").value = String(state.samples);
  if (![...$("samples").options].some((o) => o.value === String(state.samples))) {
    const option = new Option(fmtInt(state.samples), String(state.samples));
    $("samples").add(option);
    $("samples").value = String(state.samples);
  }
  if (!seedError) $("seed").value = state.seed;
}

function buildControls() {
  buildInputSliders();
  buildSettingSliders();
  buildExtensionBoxes();
  buildScenarioOptions();
  syncVariants();
  const preset = presets.find((p) => p.name === state.preset);
  $("preset-description").textContent = preset ? preset.description : "";
}

// ---------------------------------------------------------------- every other setting, as number boxes

// What a typed value means: a number, Infinity (written as the API writes it), empty for unset, or null if
// it is none of these.
function parseSetting(text, current) {
  const value = text.trim();
  if (value === "") return { ok: true, value: null };
  if (/^(inf|infinity|∞)$/i.test(value)) return { ok: true, value: "Infinity" };
  const number = Number(value);
  if (!Number.isFinite(number)) return { ok: false };
  return { ok: true, value: number };
}

function showSetting(value) {
  if (value === null || value === undefined) return "";
  if (value === "Infinity" || value === Infinity) return "Infinity";
  return String(value);
}

// One labelled box (or checkbox) for a setting key; `prefix` keeps ids unique when a key shows twice.
function settingBox(key, value, prefix) {
  const row = document.createElement("label");
  row.className = "row setting";
  const name = document.createElement("span");
  name.textContent = labelFor(key);
  row.append(name);
  if (isDistribution(value)) {
    const note = document.createElement("span");
    note.className = "fixed";
    note.textContent = `${describe(value)} (sliders above)`;
    row.append(note);
    return row;
  }
  const input = document.createElement("input");
  input.id = `${prefix}:${key}`;
  input.dataset.key = key;
  if (typeof value === "boolean") {
    input.type = "checkbox";
    input.checked = value;
    input.addEventListener("change", () => { setOverride(key, input.checked); afterSettingChange(); });
  } else {
    input.type = "text";
    input.inputMode = "decimal";
    input.className = "numbox";
    input.value = showSetting(value);
    input.placeholder = value === null ? "unset" : "";
    input.addEventListener("change", () => {
      const parsed = parseSetting(input.value);
      if (!parsed.ok) {
        input.setAttribute("aria-invalid", "true");
        input.title = "a number, Infinity, or empty for unset";
        return;
      }
      input.removeAttribute("aria-invalid");
      setOverride(key, parsed.value);
      afterSettingChange();
    });
  }
  row.append(input);
  return row;
}

function afterSettingChange() {
  buildExtensionBoxes();
  buildInputSliders();
  changed();
}

function buildExtensionBoxes() {
  const box = $("extension-boxes");
  box.replaceChildren();
  const scenario = scenarioObject();
  for (const section of SECTIONS) {
    const values = scenario[section];
    if (!values || typeof values !== "object") continue;
    const title = document.createElement("h4");
    title.textContent = section.replace("_", " ");
    box.append(title);
    for (const [name, value] of Object.entries(values)) {
      if (section === "ramp" && name === "shape") continue;
      box.append(settingBox(`${section}.${name}`, value, "box"));
    }
  }
  const pairs = Array.isArray(scenario.correlations) ? scenario.correlations : [];
  if (pairs.length) {
    const title = document.createElement("h4");
    title.textContent = "rank correlations";
    box.append(title);
    pairs.forEach((pair, i) => {
      const row = document.createElement("label");
      row.className = "row setting";
      row.append(`${pair.inputs.map(inputLabel).join(" with ")}`);
      const input = document.createElement("input");
      input.type = "number";
      input.step = "any";
      input.min = "-1";
      input.max = "1";
      input.className = "numbox";
      input.id = `box:correlations.${i}`;
      input.value = String(pair.rank);
      input.addEventListener("change", () => {
        const rank = Number(input.value);
        if (!Number.isFinite(rank) || input.value.trim() === "") { input.value = String(pair.rank); return; }
        const next = scenarioObject().correlations.map((c, j) => (j === i ? { ...c, rank } : c));
        setOverride("correlations", next);
        afterSettingChange();
      });
      row.append(input);
      box.append(row);
    });
  }
  syncRamp();
}

// The ramp's own parameters sit under its shape whenever a ramp is chosen.
function syncRamp() {
  const scenario = scenarioObject();
  const shape = getPath(scenario, "ramp.shape");
  const box = $("ramp-settings");
  box.replaceChildren();
  box.hidden = shape === "none" || shape === undefined;
  $("ramp-note").hidden = box.hidden;
  if (box.hidden) return;
  for (const key of RAMP_KEYS) box.append(settingBox(key, getPath(scenario, key), "ramp"));
  $("ramp-note").textContent =
    `Before ASARA the speed-up rises (${shape}) from the starting speed-up to f over the ramp's months. Progress ` +
    "made during the ramp counts towards the windows, and the horizon is counted from ASARA unless it includes " +
    "the ramp, so a ramp's shape and length move the probabilities: the table's change column shows by how much " +
    "against the preset, and “Why does this differ” attributes it.";
}

// ---------------------------------------------------------------- API

async function api(path, body, signal) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
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
  $("modified").textContent = keys.length ? `Changed from the preset: ${keys.map(labelFor).join(", ")}` : "";
}

function showNotice(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

// Results on screen that no longer answer the controls: greyed out, with a note saying why.
function markStale(reason) {
  if (!lastRun) return;
  $("run-results").classList.add("stale");
  $("stale-note").textContent = `Not current: ${reason} The greyed results below are from the previous run.`;
  $("stale-note").hidden = false;
}

function clearStale() {
  $("run-results").classList.remove("stale");
  $("stale-note").hidden = true;
}

// Sobol' indices assume independent inputs: the API refuses a scenario with correlations, and the page cannot
// remove them, so Compute is disabled for such a scenario with the reason next to it.
function syncSensitivity() {
  const pairs = scenarioObject().correlations;
  const blocked = Array.isArray(pairs) && pairs.length > 0;
  $("sensitivity-run").disabled = blocked;
  $("sensitivity-blocked").hidden = !blocked;
  $("sensitivity-blocked").textContent = blocked
    ? `Not available for this scenario: Sobol' indices assume the inputs vary independently, and this scenario ` +
      `correlates some of them (${pairs.map((c) => `${c.inputs.map(inputLabel).join(" with ")}, rank correlation ${c.rank}`).join("; ")}). Choose a preset without correlations ` +
      "to see which input drives each result."
    : "";
}

function changed() {
  showModified();
  syncRamp();
  buildScenarioOptions();
  syncSensitivity();
  if ($("explain-plot").data) {
    Plotly.purge("explain-plot");
    lastExplain = null;
    $("explain-note").textContent = "The scenario changed: press Explain to attribute the new difference.";
  }
  if ($("sensitivity-plot").data) {
    Plotly.purge("sensitivity-plot");
    lastSensitivity = null;
    $("sensitivity-note").textContent = "The scenario changed: press Compute for the new indices.";
  }
  writeUrl();
  if (seedError) {
    markStale("the seed box does not hold a valid seed.");
    return;
  }
  clearTimeout(timer);
  // The first run starts at once (nothing to debounce on page load); later ones wait for the slider to rest.
  timer = setTimeout(run, lastRun ? 120 : 0);
}

// The preset's own run at this page's samples and seed: the reference every change is measured against.
const referenceCache = new Map();
function referenceRun(signal) {
  const key = `${state.preset}|${state.samples}|${state.seed}`;
  if (!referenceCache.has(key)) {
    const loading = api("/api/sie/run", withSeed({ scenario: state.preset, samples: state.samples }), signal)
      .then((response) => response.json());
    loading.catch(() => referenceCache.delete(key));
    referenceCache.set(key, loading);
  }
  return referenceCache.get(key);
}

async function run() {
  if (runController) runController.abort();
  runController = new AbortController();
  const controller = runController;
  const seed = state.seed;
  const modified = Object.keys(state.overrides).length > 0;
  const scenario = scenarioObject();
  const body = withSeed({ scenario, samples: state.samples });
  setStatus($("status"), `Computing ${plural(state.samples, "sample")}…`, "busy");
  const started = performance.now();
  // The comparison with the preset is asked for at the same time as the run (the server computes both at once).
  const comparison = modified
    ? Promise.all([
      referenceRun(controller.signal),
      api("/api/sie/paired", withSeed({ reference: state.preset, scenario, samples: state.samples }), controller.signal)
        .then((r) => r.json()),
    ])
    : null;
  if (comparison) comparison.catch(() => {}); // its failure is reported where it is awaited
  try {
    const response = await api("/api/sie/run", body, controller.signal);
    const record = await response.json();
    const server = Number(response.headers.get("X-Compute-Seconds"));
    const roundTrip = (performance.now() - started) / 1000;
    if (controller.signal.aborted) return;
    lastRun = record;
    // Unchanged: the run is the preset's own (and is its reference); changed: the preset's run (cached) and the
    // paired difference arrive next, and fill the preset and change columns.
    if (!modified) {
      referenceCache.set(`${state.preset}|${state.samples}|${state.seed}`, Promise.resolve(record));
      lastReference = record;
      lastPaired = null;
    } else {
      lastPaired = null;
    }
    renderTable(record);
    renderRunNote(record);
    renderOutputs(record);
    clearStale();
    drawCdfSvg(record);
    if (modified) {
      const [reference, paired] = await comparison;
      if (controller.signal.aborted) return;
      lastReference = reference;
      lastPaired = paired;
      renderTable(record);
      drawCdfSvg(record);
    }
    takeoffRun(scenario, controller.signal);
    await renderCdf(record);
    if (controller.signal.aborted) return;
    const total = (performance.now() - started) / 1000;
    setStatus(
      $("status"),
      `${plural(record.samples, "sample")}, seed ${seed}: computed in ${server.toFixed(2)} s ` +
        `(request ${roundTrip.toFixed(2)} s; table and plot ${total.toFixed(2)} s after the change)`,
      "",
    );
  } catch (error) {
    if (error.name === "AbortError") return;
    setStatus($("status"), `Error: ${error.message}`, "error");
    markStale("this run failed.");
  }
}

function renderRunNote(record) {
  const note = $("run-note");
  note.replaceChildren("Runs ended by: ");
  Object.entries(record.end_reasons).forEach(([reason, count], i) => {
    if (i) note.append(", ");
    const term = document.createElement("abbr");
    term.title = END_REASONS[reason] || reason;
    term.textContent = reason;
    note.append(term, ` ${fmtInt(count)}`);
  });
  note.append(". ");
  if (record.end_reasons.overflow) {
    note.append("Overflow: the next doubling time grew too long to represent, so progress stopped for good " +
      "(nearly zero returns close to the ceiling); these runs are counted, not dropped. ");
  }
  note.append("Every probability is a Monte Carlo estimate; ± is one standard error.");
}

// The cell's output name as the server writes it (Python's "%g": six significant digits).
function cellKey(cell) {
  const g = (x) => String(Number(Number(x).toPrecision(6)));
  return `p_${g(cell.years)}y_${g(cell.months)}mo`.replace(/\./g, "_");
}

// A mean of any size: plain up to a million, then in exponent form (end times can reach 1e250 months).
function fmtMean(x) {
  if (x == null || !Number.isFinite(x)) return "not finite";
  return Math.abs(x) >= 1e6 ? x.toExponential(3) : String(sig(x, 4));
}

// Counts: the smallest value with at least a share q of the samples at or below it, from the exact histogram.
function histogramQuantile(histogram, q) {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let value = 0; value < histogram.length; value += 1) {
    seen += histogram[value];
    if (seen >= q * total) return value;
  }
  return histogram.length - 1;
}

// One declared output's summary in words, by its kind (the server's declarations name and describe it).
function describeOutput(output) {
  const s = output.summary;
  if (output.kind === "indicator") {
    return `${fmt4(s.probability)} ± ${fmt4(s.standard_error)} [${fmt4(s.wilson_95[0])}, ${fmt4(s.wilson_95[1])}]`;
  }
  if (output.kind === "count") {
    return `mean ${fmtMean(s.mean)}; median ${fmtInt(histogramQuantile(s.histogram, 0.5))}; ` +
      `95th percentile ${fmtInt(histogramQuantile(s.histogram, 0.95))}`;
  }
  if (output.kind === "continuous") {
    if (s.mean == null) return "mean not finite";
    if (s.standard_error == null) {
      return `mean ${fmtMean(s.mean)} (` +
        (output.samples < 2 ? "no standard error from one sample)" : "standard error not finite)");
    }
    return `mean ${fmtMean(s.mean)} ± ${fmtMean(s.standard_error)}`;
  }
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0) || 1;
  return Object.entries(s.counts).map(([name, count]) => `${name} ${(100 * count / total).toFixed(2)}%`).join(", ");
}

// Every declared per-sample output besides the cells (the table above shows those): a newly declared output
// appears here without any code of its own.
function renderOutputs(record) {
  const cells = new Set(record.cells.map(cellKey));
  const outputs = (record.outputs || []).filter((output) => !cells.has(output.name));
  $("outputs-panel").hidden = outputs.length === 0;
  const body = $("outputs").querySelector("tbody");
  body.replaceChildren();
  let unbounded = false;
  for (const output of outputs) {
    const row = document.createElement("tr");
    row.dataset.output = output.name;
    const name = document.createElement("td");
    name.className = "output";
    name.textContent = output.unit ? `${output.label} (${output.unit})` : output.label;
    if (output.help) name.title = output.help;
    const value = document.createElement("td");
    value.className = "output num";
    value.textContent = describeOutput(output);
    row.append(name, value);
    body.append(row);
    if (output.kind === "continuous" && (output.summary.mean == null || output.summary.standard_error == null)) {
      unbounded = unbounded || output.samples > 1;
    }
  }
  const kinds = new Set(outputs.map((output) => output.kind));
  const read = [
    kinds.has("indicator") && "probabilities ± one standard error [95% interval]",
    kinds.has("continuous") && "means ± one standard error",
    kinds.has("count") && "counts from their exact histograms",
    kinds.has("category") && "categories as shares of the runs",
  ].filter(Boolean).join("; ");
  $("outputs-note").textContent = (read ? `${read[0].toUpperCase()}${read.slice(1)}.` : "") +
    (unbounded ? " Not finite: a few runs reach values near " +
    "the largest representable number (their squares overflow), so the mean's standard error cannot be computed " +
    "and the mean is dominated by those few runs." : "");
}

// "≥3 years in ≤12 months" in words.
function plainCell(cell) {
  const window = cell.months === 12 ? "a year" : cell.months === 1 ? "a month" : `${sig(cell.months)} months`;
  return `${sig(cell.years)} years of progress within ${window}`;
}

const fmtSigned = (x) => `${x >= 0 ? "+" : "\u2212"}${Math.abs(x).toFixed(4)}`;

function renderTable(record) {
  const body = $("cells").querySelector("tbody");
  body.replaceChildren();
  const modified = Object.keys(state.overrides).length > 0;
  const reference = modified ? lastReference : record;
  const paired = modified && lastPaired ? Object.fromEntries(lastPaired.cells.map((c) => [c.cell, c])) : null;
  const summary = [];
  for (const cell of record.cells) {
    const key = cellKey(cell);
    const row = document.createElement("tr");
    const ref = reference ? reference.cells.find((c) => c.years === cell.years && c.months === cell.months) : null;
    const change = paired && paired[key];
    const significant = change && Math.abs(change.difference) > 2 * change.standard_error;
    const values = [
      [`${plainCell(cell)}\n≥${cell.years} years in ≤${cell.months} months`, "outcome"],
      [String(cell.required_doublings), "num"],
      [`${fmt4(cell.probability)} ± ${fmt4(cell.standard_error)}`, "num"],
      [`[${fmt4(cell.wilson_95[0])}, ${fmt4(cell.wilson_95[1])}]`, "num"],
      [ref ? `${fmt4(ref.probability)}` : modified ? "…" : "–", "num reference"],
      [!modified ? "same" : change ? `${fmtSigned(change.difference)} ± ${fmt4(change.standard_error)}` : "…",
        `num change${significant ? (change.difference > 0 ? " up" : " down") : ""}`],
      [key in PUBLISHED ? `${Math.round(PUBLISHED[key] * 100)}%` : "–", "num published"],
    ];
    values.forEach(([text, css]) => {
      const td = document.createElement("td");
      td.textContent = text;
      td.className = css;
      row.append(td);
    });
    body.append(row);
    summary.push(`<span><b>${sig(cell.years)}y/${sig(cell.months)}mo</b> ${fmt4(cell.probability)}` +
      (change ? ` <i class="${significant ? (change.difference > 0 ? "up" : "down") : ""}">${fmtSigned(change.difference)}</i>` : "") + "</span>");
  }
  $("reference-head").title = `${state.preset}: the preset's own run with the same samples and seed`;
  $("sticky-summary").innerHTML = summary.join(" ");
  const note = $("paired-note");
  if (!modified) {
    note.textContent = `This is the preset ${state.preset}: move any input and the preset's numbers stay in the ` +
      "preset column (and its curves on the plot) for comparison. Paper: the published numbers for paper-baseline.";
  } else if (lastPaired) {
    const ratio = Math.max(...lastPaired.cells.map((c) => c.independent_standard_error / Math.max(c.standard_error, 1e-12)));
    note.textContent = `Change from ${state.preset} ± the standard error of the paired difference: both ran on the same ` +
      `random numbers (seed ${state.seed}, sample by sample), so the error is that of per-sample differences` +
      (Number.isFinite(ratio) && ratio > 1 ? `, up to ${sig(ratio, 2)}× smaller than for two independent runs.` : ".") +
      " Coloured: more than two SE from zero.";
  } else {
    note.textContent = `Computing the change from ${state.preset}…`;
  }
}

function narrow(element) {
  return (element.clientWidth || document.documentElement.clientWidth) < 600;
}

// On a narrow plot the mode bar would sit on top of the first panel's title: it is left out there.
function plotConfig(element) {
  return { displaylogo: false, responsive: true, displayModeBar: narrow(element) ? false : "hover" };
}

function markPlotted() {
  const now = performance.now();
  if (window.plotTimes.first === null) window.plotTimes.first = now;
  window.plotTimes.last = now;
  window.plotTimes.count += 1;
}

// The curves as a plain SVG, drawn the moment the numbers arrive (plotly takes about two seconds to start):
// this is the first plot a visitor sees; plotly's interactive one replaces it.
function drawCdfSvg(record) {
  const element = $("cdf");
  if (element.data) return; // plotly already owns the element: renderCdf redraws it
  const width = Math.max(280, element.clientWidth || 600);
  const height = narrow(element) ? 320 : 380;
  const m = { l: 46, r: 10, t: 30, b: 40 };
  const series = Object.entries(record.years_compressed);
  const reference = Object.keys(state.overrides).length && lastReference ? Object.entries(lastReference.years_compressed) : [];
  const xmax = Math.max(1, ...[...series, ...reference].flatMap(([, points]) => points.filter((p) => p.probability > 0.001).map((p) => p.years)));
  const X = (x) => m.l + (x / xmax) * (width - m.l - m.r);
  const Y = (y) => m.t + (1 - y / 1.02) * (height - m.t - m.b);
  const path = (points) => {
    let d = `M${X(0)},${Y(1)}`;
    let y = 1;
    for (const p of points) {
      if (p.years > xmax) break;
      d += `H${X(p.years).toFixed(1)}V${Y(p.probability).toFixed(1)}`;
      y = p.probability;
    }
    return `${d}H${X(xmax)}V${Y(y).toFixed(1)}`;
  };
  const parts = [`<svg width="${width}" height="${height}" role="img" aria-label="Years of progress compressed into a window" class="first-plot">`];
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">Years of progress compressed into a window</text>`);
  for (let t = 0; t <= 1; t += 0.25) {
    parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#e3e6ea"/>`);
    parts.push(`<text x="${m.l - 4}" y="${Y(t) + 4}" text-anchor="end" font-size="11">${t}</text>`);
  }
  const step = xmax > 20 ? 5 : xmax > 8 ? 2 : 1;
  for (let x = 0; x <= xmax; x += step) parts.push(`<text x="${X(x)}" y="${height - m.b + 14}" text-anchor="middle" font-size="11">${x}</text>`);
  parts.push(`<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle" font-size="12">years of progress (at least)</text>`);
  for (const [months, points] of reference) {
    parts.push(`<path d="${path(points)}" fill="none" stroke="${COLOURS[months] || "#555"}" stroke-width="1.5" stroke-dasharray="4 3" opacity="0.6"/>`);
  }
  series.forEach(([months, points], i) => {
    const colour = COLOURS[months] || "#555";
    parts.push(`<path d="${path(points)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${width - m.r - 4}" y="${m.t + 16 + 16 * i}" text-anchor="end" font-size="12" fill="${colour}">within ${months} months</text>`);
  });
  parts.push("</svg>");
  element.innerHTML = parts.join("");
  markPlotted();
}

async function renderCdf(record) {
  const Plotly = await plotlyReady();
  const element = $("cdf");
  if (!element.data) element.replaceChildren(); // the first SVG gives way to plotly's figure
  const small = narrow(element);
  const traces = [];
  const modified = Object.keys(state.overrides).length > 0;
  let widest = 0;
  // The preset's curves, dashed, as the reference (only once something has changed).
  if (modified && lastReference) {
    for (const [months, points] of Object.entries(lastReference.years_compressed)) {
      traces.push({
        x: [0, ...points.map((p) => p.years)], y: [1, ...points.map((p) => p.probability)], mode: "lines",
        name: `preset, ${months} months`, line: { color: COLOURS[months] || "#555", width: 1.5, dash: "dash", shape: "hv" },
        opacity: 0.6, hovertemplate: `preset: ≥ %{x} years in ${months} months: %{y:.4f}<extra></extra>`,
      });
    }
  }
  for (const [months, points] of Object.entries(record.years_compressed)) {
    const x = [0, ...points.map((p) => p.years)];
    const y = [1, ...points.map((p) => p.probability)];
    const se = [0, ...points.map((p) => p.standard_error)];
    const colour = COLOURS[months] || "#555";
    const upper = y.map((v, i) => Math.min(1, v + 1.96 * se[i]));
    const lower = y.map((v, i) => Math.max(0, v - 1.96 * se[i]));
    widest = Math.max(widest, ...se.map((v) => 1.96 * v));
    traces.push({ x, y: lower, mode: "lines", line: { width: 0, shape: "hv" }, hoverinfo: "skip", showlegend: false });
    traces.push({
      x, y: upper, mode: "lines", line: { width: 0, shape: "hv" }, fill: "tonexty",
      fillcolor: hexAlpha(colour, 0.25), hoverinfo: "skip", showlegend: false,
    });
    traces.push({
      x, y, mode: "lines", name: `within ${months} months`, line: { color: colour, width: 2, shape: "hv" },
      customdata: se, hovertemplate: `≥ %{x} years in ${months} months: %{y:.4f} ± %{customdata:.4f}<extra></extra>`,
    });
    // The Monte Carlo error on its own scale (lower panel): visible at any sample count.
    traces.push({
      x, y: se.map((v) => 1.96 * v), mode: "lines", line: { color: colour, width: 0, shape: "hv" }, fill: "tozeroy",
      fillcolor: hexAlpha(colour, 0.35), xaxis: "x", yaxis: "y2", showlegend: false,
      hovertemplate: `±%{y:.4f} (95%) at ≥ %{x} years, ${months} months<extra></extra>`,
    });
  }
  const layout = {
    title: {
      text: small ? "Years of progress compressed<br>into a window" : "Years of progress compressed into a window",
      font: { size: small ? 13 : 14 },
    },
    xaxis: { title: { text: "years of progress (at least)" }, rangemode: "tozero", anchor: "y2" },
    yaxis: { title: { text: "probability" }, range: [0, 1.02], domain: [0.3, 1] },
    yaxis2: { title: { text: "±1.96 SE", font: { size: 11 } }, domain: [0, 0.2], rangemode: "tozero", tickformat: ".3f" },
    margin: { t: small ? 56 : 40, r: 10, b: 50, l: small ? 54 : 64 },
    legend: { x: 0.98, xanchor: "right", y: 0.98 },
    height: small ? 420 : 480,
  };
  Plotly.react("cdf", traces, layout, plotConfig($("cdf")));
  markPlotted();
  $("band-note").textContent =
    `Shaded around each curve: its 95% Monte Carlo interval (±1.96 SE). At ${fmtInt(record.samples)} samples it is at ` +
    `most ±${widest.toFixed(4)} wide${widest < 0.005 ? ", thinner than the line" : ""}, so the lower panel draws it on its ` +
    "own scale. It is " +
    "the error of the estimate, not uncertainty about the world: that is the spread of the inputs, which the curves " +
    "already show." + (modified ? " Dashed: the preset." : "");
}

function hexAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// ---------------------------------------------------------------- takeoff over time

const TAKEOFF_RUNS = 500;
const TAKEOFF_SHOWN = 12;

async function takeoffRun(scenario, signal) {
  if (!$("takeoff-panel").open) return;
  $("takeoff-note").textContent = "Computing sample runs…";
  try {
    const response = await api("/api/sie/takeoff", withSeed({ scenario, runs: TAKEOFF_RUNS, shown: TAKEOFF_SHOWN }), signal);
    const data = await response.json();
    if (signal && signal.aborted) return;
    lastTakeoff = data;
    await renderTakeoff(data);
  } catch (error) {
    if (error.name === "AbortError") return;
    $("takeoff-note").textContent = `Error: ${error.message}`;
  }
}

async function renderTakeoff(data) {
  const Plotly = await plotlyReady();
  const element = $("takeoff-plot");
  const small = narrow(element);
  const x = data.months;
  const q = data.quantiles;
  const traces = [
    { x, y: q["0.05"], mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
    { x, y: q["0.95"], mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31, 95, 168, 0.15)", name: "5–95% of runs", hoverinfo: "skip" },
    { x, y: q["0.25"], mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
    { x, y: q["0.75"], mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31, 95, 168, 0.3)", name: "25–75%", hoverinfo: "skip" },
    { x, y: q["0.5"], mode: "lines", line: { color: "#1f5fa8", width: 3 }, name: "median", hovertemplate: "%{x:.1f} months: median %{y:.2f} years<extra></extra>" },
  ];
  data.samples.forEach((run, i) => {
    const inputs = run.inputs;
    traces.push({
      x, y: run.years, mode: "lines", line: { color: "rgba(60, 60, 60, 0.55)", width: 1, shape: "hv" }, showlegend: i === 0,
      name: "sample runs", legendgroup: "runs",
      hovertemplate: `run ${run.sample + 1} (f ${sig(inputs.speedup)}, r\u2080 ${sig(inputs.returns)}, p ${sig(inputs.parallel_penalty)}): %{y:.2f} years at %{x:.1f} months<extra></extra>`,
    });
  });
  const top = Math.max(...q["0.95"], ...data.samples.map((r) => Math.min(...r.years.slice(-1), q["0.95"][q["0.95"].length - 1] * 2)));
  const marks = [
    { x: 0, text: "ASARA", colour: "#2e8b57" },
    { x: data.horizon_months, text: "horizon", colour: "#444" },
  ];
  const layout = {
    title: { text: small ? "Years of progress<br>by month" : "Years of progress against months since ASARA", font: { size: small ? 13 : 14 } },
    xaxis: { title: { text: "months since ASARA" } },
    yaxis: { title: { text: "years of progress" }, range: [0, top * 1.05 || 1] },
    margin: { t: small ? 70 : 50, r: 10, b: small ? 110 : 50, l: 54 },
    legend: small ? { orientation: "h", x: 0, y: -0.25, yanchor: "top" } : { x: 0.02, y: 0.98 },
    height: small ? 460 : 420,
    shapes: marks.map((mark) => ({ type: "line", x0: mark.x, x1: mark.x, yref: "paper", y0: 0, y1: 1, line: { color: mark.colour, dash: "dot", width: 1.5 } })),
    annotations: marks.map((mark) => ({ x: mark.x, y: 1, yref: "paper", yanchor: "bottom", text: mark.text, showarrow: false, font: { color: mark.colour, size: 11 } })),
  };
  Plotly.react(element, traces, layout, plotConfig(element));
  const ramp = data.ramp_lead_months > 0
    ? ` Negative months: the pre-ASARA ramp (up to ${sig(data.ramp_lead_months)} months); progress is counted from the ramp's start.`
    : "";
  $("takeoff-note").textContent =
    `The first ${TAKEOFF_SHOWN} of ${fmtInt(data.runs)} runs (seed ${data.seed}, the same inputs the run above draws first) ` +
    `and the 5, 25, 50, 75 and 95% quantiles over all ${fmtInt(data.runs)}: years of progress at the recent pace ` +
    `(software doublings × s/4) by each month. Dotted: ASARA and the horizon. A run that flattens has reached its limit.${ramp}`;
}

// ---------------------------------------------------------------- subplot grids

// Subplot domains for `count` panels in `columns` columns, with gaps in pixels (room for each panel's title
// and, under the bottom row only, the shared axis labels). Two columns only where they fit.
function gridLayout(count, columns, { rowHeight, gap, top, bottom, colGap = 0.1 }) {
  const rows = Math.ceil(count / columns);
  const height = top + rows * rowHeight + (rows - 1) * gap + bottom;
  const panels = [];
  for (let i = 0; i < count; i += 1) {
    const row = Math.floor(i / columns);
    const col = i % columns;
    const width = (1 - colGap * (columns - 1)) / columns;
    const y1 = 1 - (top + row * (rowHeight + gap)) / height;
    const y0 = 1 - (top + row * (rowHeight + gap) + rowHeight) / height;
    panels.push({ row, col, rows, x: [col * (width + colGap), col * (width + colGap) + width], y: [y0, y1] });
  }
  return { height, panels };
}

function columnsFor(element) {
  return (element.clientWidth || $("cdf").clientWidth) < 640 ? 1 : 2;
}

// ---------------------------------------------------------------- explanation

async function explainRun() {
  const baseline = $("explain-baseline").value;
  const samples = Number($("explain-samples").value);
  if (seedError) { $("explain-note").textContent = "Fix the seed first."; return; }
  $("explain-note").textContent = "Computing…";
  try {
    const response = await api("/api/sie/explain", withSeed({ baseline, scenario: scenarioObject(), samples }));
    const data = await response.json();
    const Plotly = await plotlyReady();
    if (!data.changes.length) {
      $("explain-note").textContent = `This scenario makes the same assumptions as ${baseline}: nothing to explain.`;
      Plotly.purge("explain-plot");
      lastExplain = null;
      return;
    }
    lastExplain = { data, baseline };
    await renderWaterfall(data, baseline);
    $("explain-note").textContent =
      `Exact Shapley attribution of the change from ${baseline} to this scenario, ${fmtInt(samples)} samples per subset ` +
      `(common random numbers). The steps add up to the total change; whiskers are ±1.96 SE.`;
  } catch (error) {
    $("explain-note").textContent = `Error: ${error.message}`;
  }
}

async function renderWaterfall(data, baseline) {
  const Plotly = await plotlyReady();
  const element = $("explain-plot");
  const outputs = Object.entries(data.outputs);
  const columns = columnsFor(element);
  const names = [baseline, ...data.changes, "this scenario"];
  const longest = Math.max(...names.map((n) => n.length));
  // Every panel has the same bars in the same order, so only the bottom row labels them.
  const bottom = Math.min(160, 30 + 6 * longest * (columns === 1 ? 0.75 : 0.6));
  const grid = gridLayout(outputs.length, columns, { rowHeight: 210, gap: 44, top: 24, bottom: 0, colGap: 0.14 });
  const traces = [];
  const layout = { margin: { t: 6, r: 16, b: bottom, l: 64 }, showlegend: false, height: grid.height + 6 + bottom,
    annotations: [] };
  outputs.forEach(([output, e], i) => {
    const panel = grid.panels[i];
    const axis = i === 0 ? "" : String(i + 1);
    const bars = [baseline, ...e.attributions.map((a) => a.change), "this scenario"];
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
      type: "bar", x: bars, y: values, base: bases, marker: { color: colours }, xaxis: `x${axis}`, yaxis: `y${axis}`,
      error_y: { type: "data", array: errors, visible: true, color: "#222" },
      // Each bar's value on it: the endpoints as probabilities, the steps as signed changes.
      text: values.map((v, k) => (k === 0 || k === values.length - 1 ? v.toFixed(3) : `${v >= 0 ? "+" : "\u2212"}${Math.abs(v).toFixed(3)}`)),
      textposition: "inside", insidetextanchor: "middle", textfont: { size: 10, color: "#fff" }, cliponaxis: false,
      hovertemplate: "%{x}: %{y:+.4f}<extra></extra>",
    });
    const lastRow = panel.row === panel.rows - 1 || i + columns >= outputs.length;
    layout[`xaxis${axis}`] = {
      // automargin: a long first label, slanted, reaches left of the panel; plotly widens the margins to fit it.
      domain: panel.x, anchor: `y${axis}`, showticklabels: lastRow, tickangle: -30, automargin: true,
      categoryorder: "array", categoryarray: names,
    };
    layout[`yaxis${axis}`] = {
      domain: panel.y, anchor: `x${axis}`, rangemode: "tozero", tickformat: ".2~f",
      title: panel.col === 0 ? { text: "probability", standoff: 4, font: { size: 12 } } : undefined,
    };
    layout.annotations.push({
      text: (data.labels && data.labels[output]) || output, showarrow: false,
      xref: "paper", yref: "paper", x: (panel.x[0] + panel.x[1]) / 2, y: panel.y[1], yshift: 6, xanchor: "center", yanchor: "bottom",
      font: { size: 12 },
    });
  });
  // No mode bar: over a grid of panels it covers the first panel's title.
  Plotly.react(element, traces, layout, { ...plotConfig(element), displayModeBar: false });
}

// ---------------------------------------------------------------- sensitivity

// Sobol' indices of an output that is (almost) always 0 or always 1, or whose intervals are this wide, are
// mostly noise at the design size that produced them.
const NOISY_CI_WIDTH = 0.5;
const NOISY_PROBABILITY = 0.01;

function noisyOutputs(data) {
  const noisy = {};
  for (const [output, records] of Object.entries(data.outputs)) {
    if (!records) continue;
    const mean = data.output_means ? data.output_means[output] : undefined;
    const widest = Math.max(...records.flatMap((r) => [r.first_ci[1] - r.first_ci[0], r.total_ci[1] - r.total_ci[0]]));
    const rare = mean !== undefined && mean !== null && (mean < NOISY_PROBABILITY || mean > 1 - NOISY_PROBABILITY);
    if (rare || widest > NOISY_CI_WIDTH) noisy[output] = { mean, widest, rare };
  }
  return noisy;
}

async function sensitivityRun() {
  if ($("sensitivity-run").disabled) return;
  const samples = Number($("sensitivity-samples").value);
  if (seedError) { $("sensitivity-note").textContent = "Fix the seed first."; return; }
  $("sensitivity-note").textContent = "Computing…";
  $("sensitivity-warning").hidden = true;
  try {
    const response = await api("/api/sie/sensitivity", withSeed({ scenario: scenarioObject(), samples, method: "sobol" }));
    const data = await response.json();
    lastSensitivity = data;
    await renderSensitivity(data);
    const names = data.input_labels || {};
    const fixed = data.fixed_inputs.length ? ` Fixed, so left out: ${data.fixed_inputs.map((n) => names[n] || n).join(", ")}.` : "";
    $("sensitivity-note").textContent =
      `Share of each result's variance explained by each input: alone (first order) and with its interactions ` +
      `(total). ${fmtInt(data.evaluations)} model runs; whiskers are bootstrap 95% intervals.${fixed}`;
    const noisy = noisyOutputs(data);
    const lines = Object.entries(noisy).map(([output, n]) => {
      const label = (data.labels && data.labels[output]) || output;
      const why = [];
      if (n.rare) why.push(`probability ${fmtNum(n.mean, 2)} over the design`);
      if (n.widest > NOISY_CI_WIDTH) why.push(`intervals up to ${fmtNum(n.widest, 2)} wide`);
      return `${label} (${why.join(", ")})`;
    });
    if (lines.length) {
      const next = samples < limits.max_sensitivity_samples ? " Raise the design size (4,096) for firmer numbers." : "";
      $("sensitivity-warning").textContent =
        `\u26a0 Mostly noise at a design of ${fmtInt(data.samples)}: ${lines.join("; ")}. ` +
        `Indices of so rare (or so common) an outcome, or with intervals this wide, cannot be read as shares.${next}`;
      $("sensitivity-warning").hidden = false;
    }
  } catch (error) {
    $("sensitivity-note").textContent = `Error: ${error.message}`;
  }
}

// Break a long label over lines of at most `width` characters (plotly does not wrap tick labels).
function wrapLabel(text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join("<br>");
}

async function renderSensitivity(data) {
  const Plotly = await plotlyReady();
  const element = $("sensitivity-plot");
  const outputs = Object.entries(data.outputs).filter(([, rows]) => rows);
  const columns = columnsFor(element);
  const noisy = noisyOutputs(data);
  const names = data.input_labels || {};
  const wrap = columns === 1 ? 18 : 28;
  const label = (input) => wrapLabel(names[input] || input, wrap);
  const longest = Math.max(...outputs.flatMap(([, records]) => records.map((r) => Math.min(wrap, (names[r.input] || r.input).length))));
  const left = 12 + 6.6 * longest;
  const inputs = outputs.length ? outputs[0][1].length : 0;
  const grid = gridLayout(outputs.length, columns, { rowHeight: 44 * inputs + 20, gap: 62, top: 24, bottom: 52, colGap: 0.08 });
  const traces = [];
  const layout = { margin: { t: 6, r: 16, b: 6, l: left }, height: grid.height + 12, barmode: "group",
    legend: { orientation: "h", x: 0, y: 0, yanchor: "bottom" }, annotations: [] };
  outputs.forEach(([output, records], i) => {
    const panel = grid.panels[i];
    const axis = i === 0 ? "" : String(i + 1);
    const series = [["first", "first order", "#1f5fa8"], ["total", "total", "#d9641e"]];
    for (const [key, name, colour] of series) {
      traces.push({
        type: "bar", orientation: "h", y: records.map((r) => label(r.input)), x: records.map((r) => r[key]), name,
        marker: { color: colour }, xaxis: `x${axis}`, yaxis: `y${axis}`, showlegend: i === 0,
        error_x: { type: "data", symmetric: false, visible: true, color: "#222",
          array: records.map((r) => Math.max(0, r[`${key}_ci`][1] - r[key])),
          arrayminus: records.map((r) => Math.max(0, r[key] - r[`${key}_ci`][0])) },
        customdata: records.map((r) => [names[r.input] || r.input, r[`${key}_ci`][0], r[`${key}_ci`][1]]),
        hovertemplate: `%{customdata[0]}: ${name} %{x:.3f} [%{customdata[1]:.3f}, %{customdata[2]:.3f}]<extra></extra>`,
      });
    }
    layout[`xaxis${axis}`] = { domain: panel.x, anchor: `y${axis}`, zeroline: true };
    // Every panel lists the same inputs in the same order: only the left column names them.
    layout[`yaxis${axis}`] = { domain: panel.y, anchor: `x${axis}`, autorange: "reversed", showticklabels: panel.col === 0 };
    const warn = noisy[output];
    layout.annotations.push({
      text: `${warn ? "\u26a0 " : ""}${(data.labels && data.labels[output]) || output}${warn ? ": noise" : ""}`,
      showarrow: false, xref: "paper", yref: "paper", x: (panel.x[0] + panel.x[1]) / 2, y: panel.y[1], yshift: 6,
      xanchor: "center", yanchor: "bottom", font: { size: 12, color: warn ? "#8a5300" : "#1d2330" },
    });
  });
  Plotly.react(element, traces, layout, plotConfig(element));
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
  if (seedError) { $("download-note").textContent = "Fix the seed first."; return; }
  const cap = limits ? limits.max_download_samples : 200000;
  const samples = Math.min(state.samples, cap);
  // Its own line, so the "Downloaded …" message does not replace it.
  $("download-cap").textContent = samples < state.samples
    ? `The file holds the first ${plural(samples, "sample")} of this run, not all ${fmtInt(state.samples)}: ` +
      "downloads are capped on this server."
    : "";
  download("/api/sie/samples", withSeed({ scenario: scenarioObject(), samples, format }), `samples.${format}`);
}

// ---------------------------------------------------------------- persona tab

const DEFAULT_PERSONA_PRESET = "production-stories";
let personaPresets = [];

// The persona scenario being edited: the preset's document with the page's edits (null: the preset as is).
let personaDocument = null;
let personaEdited = false;

async function personaPresetChosen() {
  const name = $("persona-preset").value;
  personaDocument = await (await api(`/api/persona/presets/${encodeURIComponent(name)}`)).json();
  personaEdited = false;
  buildPersonaInputs();
  await personaRun();
}

// A readable name for a place in the persona document: families and documents by their own names.
function personaLabel(path) {
  const words = [];
  let node = personaDocument;
  for (const part of path) {
    const next = node[part];
    if (Array.isArray(node)) {
      const named = next && (next.family || next.name || next.stage);
      const text = named ? String(named) : `#${Number(part) + 1}`;
      words.push(text.length > 48 ? `${text.slice(0, 47)}\u2026` : text);
    } else {
      words.push(String(part).replace(/_/g, " "));
    }
    node = next;
  }
  return words.slice(1).join(" › "); // the section is the group heading
}

// Every number and switch of the persona scenario as a box; the curves follow each edit.
function buildPersonaInputs() {
  const box = $("persona-inputs");
  box.replaceChildren();
  if (!personaDocument) return;
  const sections = new Map();
  const walk = (node, path) => {
    for (const [key, value] of Object.entries(node)) {
      const here = [...path, Array.isArray(node) ? Number(key) : key];
      if (value !== null && typeof value === "object") { walk(value, here); continue; }
      if (typeof value !== "number" && typeof value !== "boolean") continue;
      const section = String(here[0]);
      if (!sections.has(section)) {
        const title = document.createElement("h4");
        title.textContent = section.replace(/_/g, " ");
        const group = document.createElement("div");
        group.className = "persona-group";
        box.append(title, group);
        sections.set(section, group);
      }
      const row = document.createElement("label");
      row.className = "row setting";
      row.append(personaLabel(here) || section.replace(/_/g, " "));
      const input = document.createElement("input");
      input.id = `persona:${here.join(".")}`;
      if (typeof value === "boolean") {
        input.type = "checkbox";
        input.checked = value;
      } else {
        input.type = "number";
        input.step = "any";
        input.className = "numbox";
        input.value = String(value);
      }
      input.addEventListener("change", () => {
        let next = input.checked;
        if (input.type === "number") {
          next = Number(input.value);
          if (input.value.trim() === "" || !Number.isFinite(next)) { input.value = String(value); return; }
        }
        let target = personaDocument;
        for (const part of here.slice(0, -1)) target = target[part];
        target[here[here.length - 1]] = next;
        personaEdited = true;
        personaRun();
      });
      row.append(input);
      sections.get(section).append(row);
    }
  };
  walk(personaDocument, []);
}

async function personaRun() {
  const name = $("persona-preset").value;
  state.persona = name;
  writeUrl();
  const preset = personaPresets.find((p) => p.name === name);
  $("persona-description").textContent = preset ? preset.description : "";
  setStatus($("persona-status"), "Computing…", "busy");
  try {
    const scenario = personaEdited && personaDocument ? { ...personaDocument, name: `${name}-modified` } : name;
    const response = await api("/api/persona/run", { scenario });
    const record = await response.json();
    lastPersona = record;
    const body = $("persona-shares").querySelector("tbody");
    body.replaceChildren();
    for (const [family, prior] of Object.entries(record.shares.prior)) {
      const row = document.createElement("tr");
      for (const [text, css] of [[family, "family"], [fmtNum(prior, 4), "num"], [fmtNum(record.shares.posterior[family], 4), "num"]]) {
        const td = document.createElement("td");
        td.textContent = text;
        td.className = css;
        row.append(td);
      }
      body.append(row);
    }
    $("persona-note").textContent = personaSummary(record);
    await renderPersona(record);
    setStatus($("persona-status"),
      `${record.scenario}: ${plural(record.personas, "persona")}, ${plural(record.context_types, "context type")}`, "");
  } catch (error) {
    setStatus($("persona-status"), `Error: ${error.message}`, "error");
  }
}

// What happens to the misaligned share, in the words the numbers support: the half-life is the number of
// further documents, after the corpus's N, that halve the misaligned : aligned odds again (null: never);
// the limit share is where the share ends up as the corpus mix repeats without end.
function personaSummary(record) {
  const share = record.misaligned_share;
  const limit = record.residual ? record.residual.limit_share : null;
  const n = record.documents;
  const rising = share.posterior > share.prior;
  let fate;
  if (limit != null && limit >= 1) {
    fate = "The corpus favours some misaligned personas over every aligned one: repeated without end, it would " +
      "make the misaligned share tend to 1.";
  } else if (record.half_life == null) {
    fate = limit != null && limit > 0
      ? (rising
        ? `The corpus removes aligned personas that misaligned ones imitate perfectly, so the share rises towards ` +
          `a limit of ${fmtNum(limit)} as the corpus repeats; its odds never halve.`
        : `It does not decay to zero: as the corpus grows it levels off at a floor of ${fmtNum(limit)} ` +
          `(misaligned personas the documents cannot tell apart from aligned ones), so its odds never halve again.`)
      : "Its odds cannot halve any further (the half-life is \u201cnever\u201d).";
  } else {
    fate = `After the corpus's ${fmtCount(n)} documents, the misaligned : aligned odds halve again after a further ` +
      `${fmtCount(record.half_life)} documents (the half-life; at about ${fmtCount(n + record.half_life)} documents in all)` +
      (limit != null && limit > 0 ? `; the share levels off at ${fmtNum(limit)}.` : "; the share keeps falling towards 0.");
  }
  return `${fmtCount(n)} ${n === 1 ? "document" : "documents"}. Misaligned share ${fmtNum(share.prior)} (prior) \u2192 ${fmtNum(share.posterior)} ` +
    `(posterior); predicted misbehaviour ${fmtNum(record.misbehaviour_rate.prior)} \u2192 ` +
    `${fmtNum(record.misbehaviour_rate.posterior)}. ${fate} Exact (no sampling).`;
}

async function renderPersona(record) {
  const Plotly = await plotlyReady();
  // As `asara plot persona` draws it: the leftmost point (at half a document) is the prior.
  const PRIOR_AT = 0.5;
  const x = [PRIOR_AT, ...record.curve.map((p) => p.documents)];
  const hover = ["prior", ...record.curve.map((p) => `${fmtCount(p.documents)} documents`)];
  const total = [record.misaligned_share.prior, ...record.curve.map((p) => p.misaligned_share)];
  // The total goes first (underneath) and the families dashed on top, so a family equal to it stays visible.
  const traces = [{
    x, y: total, name: "misaligned (total)", mode: "lines+markers", line: { color: "#111", width: 5 },
    opacity: 0.45, marker: { size: 7 }, customdata: hover, hovertemplate: "%{customdata}: %{y:.4g}<extra>misaligned</extra>",
  }];
  const families = Object.keys(record.shares.prior);
  const palette = ["#2e8b57", "#8e44ad", "#b03a48", "#1f5fa8", "#d9641e", "#5d6d7e", "#c9a227"];
  families.forEach((family, i) => {
    const y = [record.shares.prior[family], ...record.curve.map((p) => p.shares[family])];
    traces.push({
      x, y, name: family, mode: "lines+markers", line: { dash: "dash", width: 2, color: palette[i % palette.length] },
      marker: { size: 5 }, customdata: hover, hovertemplate: `%{customdata}: %{y:.4g}<extra>${family}</extra>`,
    });
  });
  const small = narrow($("persona-plot"));
  const shapes = [];
  const annotations = [];
  const limit = record.residual ? record.residual.limit_share : null;
  if (limit != null && limit > 0) {
    // A floor only when the share falls towards it; otherwise where the rising share is headed.
    const falling = record.misaligned_share.posterior <= record.misaligned_share.prior;
    // Named in the legend rather than written over the curves.
    traces.push({ x: [x[0], Math.max(x[x.length - 1], record.documents || 1)], y: [limit, limit], mode: "lines",
      line: { color: "#b03a48", dash: "dot", width: 1.5 }, hoverinfo: "skip",
      name: `${falling ? "floor" : "limit"}: share ${fmtNum(limit)} as the corpus repeats` });
  }
  if (record.documents > 0) {
    shapes.push({ type: "line", x0: record.documents, x1: record.documents, yref: "paper", y0: 0, y1: 1, line: { color: "#5d6675", dash: "dot", width: 1 } });
    annotations.push({ x: Math.log10(record.documents), y: 0.5, yanchor: "middle", xanchor: "right", showarrow: false,
      text: `this corpus<br>${fmtCount(record.documents)} documents`, font: { color: "#5d6675", size: 11 }, bgcolor: "rgba(255,255,255,0.8)" });
  }
  if (record.half_life != null && record.half_life > 0) {
    // As `asara plot persona` marks it: the half-life counts further documents after the corpus's N, so the
    // odds halve again at N + half-life.
    const at = Math.max(record.documents, 0) + record.half_life;
    shapes.push({ type: "line", x0: at, x1: at, yref: "paper", y0: 0, y1: 1, line: { color: "#d9641e", dash: "dash", width: 1 } });
    // The label goes on the side with room (plotly widens a log axis to fit a label that spills over its end).
    const last = x[x.length - 1];
    const right = Math.log(at / PRIOR_AT) > 0.5 * Math.log(Math.max(last, at) / PRIOR_AT);
    annotations.push({ x: Math.log10(at), y: 1, yref: "paper", yanchor: "bottom", xanchor: right ? "right" : "left",
      xshift: right ? -3 : 3, showarrow: false, text: `odds halve again:<br>${fmtCount(record.half_life)} further documents`,
      font: { color: "#d9641e", size: 11 }, bgcolor: "rgba(255,255,255,0.8)", align: right ? "right" : "left" });
  }
  Plotly.react("persona-plot", traces, {
    title: { text: "Posterior share against corpus size", font: { size: 14 }, y: 0.99, yanchor: "top" },
    xaxis: { type: "log", title: { text: small ? "documents (log; leftmost: prior)" : "documents in the corpus (log scale; leftmost point: prior)" },
      exponentformat: "power" },
    yaxis: { title: { text: "posterior share" }, range: [-0.02, 1.02] },
    // Narrow: the legend goes below the axis title, in a bottom margin tall enough for both.
    margin: { t: 76, r: 10, b: small ? 150 : 50, l: 60 }, shapes, annotations, height: small ? 510 : 470,
    legend: small ? { orientation: "h", x: 0, xanchor: "left", y: -0.3, yanchor: "top" } : {},
  }, plotConfig($("persona-plot")));
}

// ---------------------------------------------------------------- wiring

let presets = [];

// Preset documents are fetched once per name (a failed fetch is forgotten, so it can be retried).
const presetCache = new Map();
async function presetDocument(name) {
  if (!presetCache.has(name)) {
    const loading = api(`/api/sie/presets/${encodeURIComponent(name)}`).then((response) => response.json());
    loading.catch(() => presetCache.delete(name));
    presetCache.set(name, loading);
  }
  return structuredClone(await presetCache.get(name));
}

async function loadPreset(name, overrides) {
  state.base = await presetDocument(name);
  state.preset = name;
  state.overrides = overrides || {};
  $("preset").value = name;
  buildControls();
  changed();
}

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tab")) {
    const selected = button.dataset.tab === tab;
    button.classList.toggle("active", selected);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  $("panel-sie").hidden = tab !== "sie";
  document.body.classList.toggle("persona", tab === "persona");
  $("panel-persona").hidden = tab !== "persona";
  writeUrl();
  if (tab === "sie" && window.Plotly && $("cdf").data) Plotly.Plots.resize("cdf");
  if (tab === "persona" && !$("persona-plot").data) personaPresetChosen();
}

async function main() {
  const overrides = readUrl();
  // Independent first requests in parallel; the baseline preset is also the default view's preset.
  let declared;
  [limits, presets, baselineDocument, personaPresets, declared] = await Promise.all([
    api("/api/limits").then((response) => response.json()),
    api("/api/sie/presets").then((response) => response.json()),
    presetDocument("paper-baseline"),
    api("/api/persona/presets").then((response) => response.json()),
    api("/api/sie/parameters").then((response) => response.json()),
  ]);
  useParameters(declared);
  for (const p of presets) {
    $("preset").add(new Option(p.name, p.name));
    $("explain-baseline").add(new Option(p.name, p.name));
  }
  checkUrlSamples();
  // Sample counts this server refuses are not offered.
  for (const option of [...$("samples").options]) if (Number(option.value) > limits.max_samples) option.remove();
  if (!presets.some((p) => p.name === state.preset)) {
    urlProblems.unshift(`There is no SIE preset “${state.preset}” on this server: showing paper-baseline instead.`);
    state.preset = "paper-baseline";
  }
  showNotice($("notice"), urlProblems.join(" "));
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
  $("seed").addEventListener("input", () => {
    const text = $("seed").value;
    seedError = checkSeed(text) || "";
    $("seed").setAttribute("aria-invalid", seedError ? "true" : "false");
    $("seed-error").textContent = seedError;
    $("seed-error").hidden = !seedError;
    if (!seedError) state.seed = BigInt(text.trim()).toString();
    changed();
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
  // The file's first lines give the command that reproduces this run (its samples and seed).
  $("download-toml").addEventListener("click", () => {
    const body = { scenario: scenarioObject(), samples: state.samples };
    download("/api/sie/toml", seedError ? body : withSeed(body), "scenario.toml");
  });
  $("download-csv").addEventListener("click", () => downloadSamples("csv"));
  $("download-parquet").addEventListener("click", () => downloadSamples("parquet"));
  $("explain-run").addEventListener("click", explainRun);
  $("takeoff-panel").addEventListener("toggle", () => { if ($("takeoff-panel").open && lastRun) takeoffRun(scenarioObject()); });
  // On a phone the introduction starts folded, so the table and the inputs come first.
  if (document.documentElement.clientWidth < 700) $("intro").open = false;
  $("sensitivity-run").addEventListener("click", sensitivityRun);
  const tabs = [...document.querySelectorAll(".tab")];
  for (const button of tabs) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
    // The tab list's keys: arrows (and Home, End) move between the tabs and select the one reached.
    button.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(button);
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      const next = tabs[(to + tabs.length) % tabs.length];
      next.focus();
      showTab(next.dataset.tab);
    });
  }

  for (const p of personaPresets) $("persona-preset").add(new Option(p.name, p.name));
  // A first visit opens on the question the model exists for (which documents move a scheming persona),
  // not on the alphabetically first preset.
  if (personaPresets.some((p) => p.name === DEFAULT_PERSONA_PRESET)) $("persona-preset").value = DEFAULT_PERSONA_PRESET;
  // A link that opens the persona tab shows its problems there too.
  const personaProblems = state.tab === "persona" ? [...urlProblems] : [];
  if (state.persona && personaPresets.some((p) => p.name === state.persona)) $("persona-preset").value = state.persona;
  else if (state.persona) {
    personaProblems.push(
      `There is no persona preset “${state.persona}” on this server: showing ${$("persona-preset").value} instead.`);
    state.persona = $("persona-preset").value;
  }
  showNotice($("persona-notice"), personaProblems.join(" "));
  $("persona-preset").addEventListener("change", personaPresetChosen);
  $("persona-reset").addEventListener("click", personaPresetChosen);

  await loadPreset(state.preset, overrides);
  if (state.tab === "persona") showTab("persona");
}

// Plots that lay out their panels by the page's width are drawn again when that width crosses a threshold.
let layoutWidth = 0;
window.addEventListener("resize", () => {
  clearTimeout(window.relayoutTimer);
  window.relayoutTimer = setTimeout(() => {
    const width = document.documentElement.clientWidth;
    if (Math.abs(width - layoutWidth) < 40) return;
    layoutWidth = width;
    if (lastRun) renderCdf(lastRun);
    if (lastExplain) renderWaterfall(lastExplain.data, lastExplain.baseline);
    if (lastSensitivity) renderSensitivity(lastSensitivity);
    if (lastPersona && !$("panel-persona").hidden) renderPersona(lastPersona);
    if (lastTakeoff) renderTakeoff(lastTakeoff);
  }, 200);
});

layoutWidth = document.documentElement.clientWidth;
main().catch((error) => setStatus($("status"), `Error: ${error.message}`, "error"));
