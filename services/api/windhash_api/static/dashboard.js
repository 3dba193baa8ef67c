// windhash dashboard: reads /api/v1 and draws cards, two charts, the top-farms table and the market panel.
import { initAccount, needLogin } from "./account.js";
import { barChart } from "./charts.js";
import { initCrm } from "./crm.js";
import * as fmt from "./format.js";
import { initMarket } from "./market.js";
import { initWindShare } from "./wind-share.js";

const API = "/api/v1";
const $ = (id) => document.getElementById(id);
const controls = {
  timeframe: $("timeframe"),
  date: $("date-input"),
  model: $("miner-model"),
  party: $("lead-party"),
};
const table = { rows: [], key: "rank", ascending: true };
let loadCounter = 0;

class ApiError extends Error {}

async function getJson(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null));
  const url = `${API}${path}${query.size ? `?${query}` : ""}`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (response.status === 401) needLogin();
  if (!response.ok) {
    const error = body?.error;
    throw new ApiError(error ? `${error.message}${error.hint ? ` — ${error.hint}` : ""}` : `${url}: ${response.status}`);
  }
  return body;
}

// The <input> kind and value that fit the timeframe: a date, a month or a year.
function setDateInput(timeframe, isoDate) {
  const input = controls.date;
  inputTimeframe = timeframe;
  if (timeframe === "daily") {
    input.type = "date";
    input.value = isoDate.slice(0, 10);
  } else if (timeframe === "monthly") {
    input.type = "month";
    input.value = isoDate.slice(0, 7);
  } else {
    input.type = "number";
    input.min = "2000";
    input.max = "2099";
    input.value = isoDate.slice(0, 4);
  }
  $("date-label").firstChild.textContent = { daily: "Date", monthly: "Month", yearly: "Year" }[timeframe];
}

// The first day of what the date input shows, read with the timeframe the input was set up for.
let inputTimeframe = "monthly";

function currentIsoDate() {
  const value = controls.date.value;
  if (!value) return new Date().toISOString().slice(0, 10);
  if (inputTimeframe === "daily") return value;
  if (inputTimeframe === "monthly") return `${value}-01`;
  return `${value}-01-01`;
}

function filters() {
  return {
    timeframe: controls.timeframe.value,
    value: controls.date.value,
    miner_model: controls.model.value,
    lead_party: controls.party.value,
  };
}

function showError(message) {
  const banner = $("error-banner");
  banner.textContent = message;
  banner.hidden = !message;
}

function renderCards(summary, comparison) {
  const row = comparison.models[0] ?? null;
  $("card-energy").textContent = fmt.mwh(summary.energy_mwh);
  $("card-energy-sub").textContent =
    `${fmt.plain(summary.record_count)} accepted bids · ${fmt.plain(summary.bm_units_curtailed)} BM units`;
  $("card-cashflow").textContent = fmt.gbp(summary.cashflow_gbp);
  $("card-cashflow-sub").textContent = fmt.gbpPerMwh(summary.cashflow_gbp_per_mwh);
  $("card-btc").textContent = row ? fmt.btc(row.btc) : fmt.missing;
  $("card-btc-sub").textContent = row ? `on ${row.miner_model} miners` : "choose a miner model";
  $("card-value").textContent = row ? fmt.gbp(row.value_gbp) : fmt.missing;
  $("card-value-sub").textContent = row
    ? row.days_without_price
      ? `${row.days_without_price} day(s) had no BTC price`
      : fmt.gbpPerMwh(row.value_gbp_per_mwh)
    : "";
  $("card-ratio").textContent = row ? fmt.ratio(row.value_to_cashflow_ratio) : fmt.missing;
  $("card-ratio-sub").textContent = row?.value_to_cashflow_ratio
    ? row.value_to_cashflow_ratio >= 1
      ? "mining would have earned more than the payments"
      : "the payments exceeded the mining value"
    : "";
  const coverage = summary.coverage;
  if (!coverage.complete) {
    $("card-energy-sub").textContent +=
      ` · ${fmt.plain(coverage.periods_ingested)}/${fmt.plain(coverage.periods_expected)} periods held`;
  }
}

function pointTitle(by, key) {
  if (by === "period") return `Settlement period ${key}`;
  return key;
}

function renderCharts(series) {
  const by = series.by;
  const label = (key) => (by === "day" ? key.slice(8) : by === "month" ? key.slice(0, 7) : key);
  const points = series.points.map((p) => ({
    label: label(p.key),
    title: pointTitle(by, p.key),
    values: { energy: p.energy_mwh, cashflow: p.cashflow_gbp, btcvalue: p.value_gbp },
  }));
  const unit = { period: "settlement period", day: "day", month: "month" }[by];
  $("energy-chart-title").textContent = `Energy curtailed by ${unit}`;
  $("money-chart-title").textContent = `Payments to farms vs value of mineable bitcoin, by ${unit}`;
  barChart($("chart-energy"), points, [{ key: "energy", className: "energy", label: "Curtailed", format: fmt.mwh }],
    fmt.axis);
  barChart($("chart-money"), points, [
    { key: "cashflow", className: "cashflow", label: "Paid to farms", format: fmt.gbp },
    { key: "btcvalue", className: "btcvalue", label: "Bitcoin value", format: fmt.gbp },
  ], fmt.axisPounds);
}

function renderTable() {
  const { key, ascending } = table;
  const type = document.querySelector(`#top-farms th[data-key="${key}"]`).dataset.type;
  const sorted = [...table.rows].sort((a, b) => {
    const x = a[key] ?? (type === "number" ? -Infinity : "");
    const y = b[key] ?? (type === "number" ? -Infinity : "");
    const order = type === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? order : -order;
  });
  document.querySelectorAll("#top-farms th").forEach((th) => {
    th.setAttribute("aria-sort", th.dataset.key === key ? (ascending ? "ascending" : "descending") : "none");
  });
  const body = document.querySelector("#top-farms tbody");
  body.replaceChildren(...sorted.map((row) => {
    const tr = document.createElement("tr");
    const cells = [
      [row.rank, ""], [row.bm_unit, ""], [row.bm_unit_name ?? fmt.missing, ""], [row.lead_party_name ?? fmt.missing, ""],
      [fmt.plain(row.energy_mwh, 1), "num"], [fmt.plain(row.cashflow_gbp, 0), "num"],
      [fmt.plain(row.cashflow_gbp_per_mwh, 2), "num"], [row.days_curtailed, "num"],
    ];
    for (const [text, className] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  }));
  if (sorted.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 8;
    td.textContent = "No curtailment in this timeframe.";
    tr.append(td);
    body.append(tr);
  }
}

async function load() {
  const f = filters();
  if (!f.value) return;
  const ticket = ++loadCounter;
  document.body.dataset.state = "loading";
  const path = `${f.timeframe}/${f.value}`;
  const party = { lead_party: f.lead_party };
  const model = { miner_model: f.miner_model };
  try {
    const [summary, comparison, series, top] = await Promise.all([
      getJson(`/summaries/${path}`, party),
      getJson(`/comparison/${path}`, { ...party, ...model }),
      getJson(`/series/${path}`, { ...party, ...model }),
      getJson(`/top/bm-units/${path}`, { ...party, limit: 15 }),
    ]);
    if (ticket !== loadCounter) return; // a newer filter change won the race
    showError("");
    renderCards(summary, comparison);
    renderCharts(series);
    table.rows = top.items;
    renderTable();
    const query = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
    history.replaceState(null, "", `?${query}`);
    $("csv-link").href = `${API}/series/${path}?${new URLSearchParams({ ...party, ...model, format: "csv" })}`;
    document.body.dataset.loaded = `${path}|${f.miner_model}|${f.lead_party}`;
    document.body.dataset.state = "ready";
  } catch (error) {
    if (ticket !== loadCounter) return;
    showError(error instanceof ApiError ? error.message : `Could not load data: ${error}`);
    document.body.dataset.state = "error";
  }
}

function renderStatus(status) {
  $("synthetic-banner").hidden = !status.synthetic;
  const latest = status.latest_complete_date ?? status.last_date;
  $("data-note").textContent = latest
    ? `Data ${status.first_date} to ${status.last_date} · complete to ${status.latest_complete_date ?? "–"}` +
      (status.pending_difficulty_periods ? ` · ${status.pending_difficulty_periods} periods await difficulty` : "") +
      (status.failed_periods_count ? ` · ${status.failed_periods_count} failed periods` : "")
    : "No data ingested yet";
  return latest;
}

function fillSelect(select, options, selected) {
  for (const [value, text] of options) select.append(new Option(text, value, false, value === selected));
}

async function init() {
  // Signing in or out can change what the page may show (private analytics, roles): start afresh.
  document.addEventListener("windhash:signed-in", () => location.reload());
  document.addEventListener("windhash:signed-out", () => location.reload());
  await initAccount();
  initCrm();
  const asked = new URLSearchParams(location.search);
  try {
    const [status, models, parties] = await Promise.all([
      getJson("/status"), getJson("/miner-models"), getJson("/lead-parties", { limit: 500 }),
    ]);
    const latest = renderStatus(status) ?? new Date().toISOString().slice(0, 10);
    const modelNames = models.items.map((m) => m.name);
    const defaultModel = modelNames.includes("S21") ? "S21" : modelNames[0] ?? "";
    fillSelect(controls.model, models.items.map((m) => [m.name, `${m.name} · ${m.efficiency_j_per_th} J/TH`]),
      asked.get("miner_model") ?? defaultModel);
    fillSelect(controls.party, parties.items.map((p) => [p.lead_party_name, p.lead_party_name]),
      asked.get("lead_party") ?? "");
    controls.timeframe.value = asked.get("timeframe") ?? "monthly";
    setDateInput(controls.timeframe.value, latest);
    if (asked.get("value")) controls.date.value = asked.get("value");
    initMarket(controls.model); // draws on its own; a missing or failing market service never stops the rest
    initWindShare(latest); // the context panel (wind-share.js), likewise on its own
  } catch (error) {
    showError(`Could not reach the API: ${error.message}`);
    document.body.dataset.state = "error";
    return;
  }
  controls.timeframe.addEventListener("change", () => {
    setDateInput(controls.timeframe.value, currentIsoDate());
    load();
  });
  for (const control of [controls.date, controls.model, controls.party]) control.addEventListener("change", load);
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  document.querySelectorAll("#top-farms th").forEach((th) => th.addEventListener("click", () => {
    table.ascending = table.key === th.dataset.key ? !table.ascending : th.dataset.type !== "number";
    table.key = th.dataset.key;
    renderTable();
  }));
  await load();
}

init();
