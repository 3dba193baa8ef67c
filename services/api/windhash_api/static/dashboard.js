// windhash dashboard: the figures of any span for all of GB, a lead party or one farm (its page), kept in the
// URL, redrawn when the data changes. Reads /api/v1 only; every figure is the API's.
import { initAccount } from "./account.js";
import { API, ApiError, getJson, query } from "./api.js";
import { initCrm } from "./crm.js";
import { initFleet } from "./fleet.js";
import { renderCards, renderCharts } from "./figures_view.js";
import * as fmt from "./format.js";
import { drawMap } from "./gb_map.js";
import { watchForChanges } from "./live_updates.js";
import { initMarket } from "./market.js";
import { drawDifficultyPrice, drawModelComparison, drawModelSeries, drawPeriods } from "./model_charts.js";
import { showProfile } from "./place_profile.js";
import { initRange, syncRange } from "./range_controls.js";
import { pageLink, SortableTable } from "./ranking_tables.js";
import { link, readUrl, scope, spanPath, state, writeUrl } from "./view_state.js";
import { initWindShare } from "./wind-share.js";

const $ = (id) => document.getElementById(id);
const FARM_ROWS = 25;
const LIVE_SECONDS = 30;
const refs = { units: new Map(), farms: new Map(), parties: new Map(), models: [], farmList: [], latest: "" };
let loadCounter = 0;
let liveUpdates = 0;

function showError(message) {
  $("error-banner").textContent = message;
  $("error-banner").hidden = !message;
}

const farmLink = (code) => link({ farm: code, party: "" });
const partyLink = (party) => link({ party, farm: "" });
const farmName = (code) => refs.farms.get(code)?.farm_name ?? refs.units.get(code)?.bm_unit_name ?? null;

const farmsTable = new SortableTable($("top-farms"), (row) => [
  [row.rank, ""], [pageLink(farmLink(row.bm_unit), row.bm_unit), ""],
  [row.bm_unit_name ?? farmName(row.bm_unit) ?? fmt.missing, ""],
  [row.lead_party_name ? pageLink(partyLink(row.lead_party_name), row.lead_party_name) : fmt.missing, ""],
  [fmt.plain(row.energy_mwh, 1), "num"], [fmt.plain(row.cashflow_gbp, 0), "num"],
  [fmt.plain(row.cashflow_gbp_per_mwh, 2), "num"], [row.days_curtailed, "num"],
], "No curtailment in this timeframe.");

const partiesTable = new SortableTable($("top-parties"), (row) => [
  [row.rank, ""], [pageLink(partyLink(row.lead_party_name), row.lead_party_name), ""],
  [fmt.plain(row.energy_mwh, 1), "num"], [fmt.plain(row.cashflow_gbp, 0), "num"],
  [fmt.plain(row.cashflow_gbp_per_mwh, 2), "num"], [row.bm_units_curtailed, "num"], [row.days_curtailed, "num"],
], "No curtailment in this timeframe.");

// The day whose settlement periods are drawn: the one asked for when it lies in the span, else the last.
function periodsDay() {
  return state.day && state.day >= state.from && state.day <= state.to ? state.day : state.to;
}

function place() {
  return { lead_party: state.farm ? "" : state.party, bm_unit: state.farm };
}

function standingOf(path) {
  if (state.farm) return getJson(`/standing/bm-units/${path}`, { bm_unit: state.farm });
  if (state.party) return getJson(`/standing/lead-parties/${path}`, { lead_party: state.party });
  return null;
}

function renderPlace(kind, top, parties, standing) {
  showProfile(kind, standing, refs);
  $("farms-title").textContent = kind === "party" ? `Farms of ${state.party}` : "Most curtailed wind farms";
  $("top-farms").closest("section").hidden = kind === "farm";
  $("parties-panel").hidden = kind !== "all";
  if (top) farmsTable.show(top.items.slice(0, FARM_ROWS));
  if (parties) partiesTable.show(parties.items);
  const ranked = top ? top.items : standing.rank === null ? [] : [{ ...standing, bm_unit_name: farmName(state.farm) }];
  const drawn = drawMap($("gb-map"), $("map-unplaced"), [...refs.farms.values()], ranked, farmLink);
  $("gb-map").dataset.placed = String(drawn.placed);
}

async function load() {
  const ticket = ++loadCounter;
  document.body.dataset.state = "loading";
  const path = spanPath();
  const kind = scope();
  const day = periodsDay();
  const model = { miner_model: state.model };
  try {
    const [summary, comparison, series, byModel, difficulty, top, parties, periods, standing] = await Promise.all([
      getJson(`/summaries/${path}`, place()),
      getJson(`/comparison/${path}`, place()),
      getJson(`/series/${path}`, { ...place(), ...model }),
      getJson(`/series/${path}/models`, place()),
      getJson(`/difficulty-price/${path}`),
      kind === "farm" ? null : getJson(`/top/bm-units/${path}`, { lead_party: state.party, limit: 500 }),
      kind === "all" ? getJson(`/top/lead-parties/${path}`, { limit: 100 }) : null,
      getJson(`/curtailment/${day}/periods`, place()),
      standingOf(path),
    ]);
    if (ticket !== loadCounter) return; // a newer change won the race
    showError("");
    renderCards(summary, comparison, state.model);
    renderCharts(series);
    const keys = series.by === "period" ? [state.from] : series.points.map((p) => p.key);
    $("models-chart-title").textContent = `Bitcoin per miner model, by ${byModel.by}`;
    drawModelSeries($("chart-models"), $("models-legend"), byModel, keys, refs.models);
    drawModelComparison($("chart-compare"), $("models-table").querySelector("tbody"), comparison);
    $("difficulty-note").textContent = drawDifficultyPrice($("chart-difficulty"), $("chart-price"), difficulty);
    $("periods-date").value = day;
    Object.assign($("periods-date"), { min: state.from, max: state.to });
    drawPeriods($("chart-periods"), $("periods-note"), periods);
    renderPlace(kind, top, parties, standing);
    $("csv-link").href = `${API}/series/${path}${query({ ...place(), ...model, format: "csv" })}`;
    const placeName = { all: "", party: state.party, farm: farmName(state.farm) ?? state.farm }[kind];
    document.title = `${placeName ? `${placeName} · ` : ""}windhash · ${state.from} to ${state.to}`;
    document.body.dataset.loaded = `${path}|${state.model}|${state.party}|${state.farm}`;
    document.body.dataset.view = kind;
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

// Options after the select's first ("All …") option, if it has one.
function fillSelect(select, options, selected) {
  const first = select.options[0]?.value === "" ? [select.options[0]] : [];
  select.replaceChildren(...first);
  for (const [value, text] of options) select.append(new Option(text, value, false, value === selected));
}

// The farm filter lists the farms of the chosen lead party, or every farm.
function fillFarms() {
  const units = refs.farmList.filter((u) => !state.party || u.lead_party_name === state.party || u.elexon_bm_unit === state.farm);
  fillSelect($("farm"), units.map((u) => [u.elexon_bm_unit, `${farmName(u.elexon_bm_unit) ?? u.elexon_bm_unit} (${u.elexon_bm_unit})`]),
    state.farm);
}

function syncControls() {
  syncRange();
  $("miner-model").value = state.model;
  $("lead-party").value = state.party;
  fillFarms();
}

// Shows another view: the URL first (so it can be shared or bookmarked), then the figures.
function show(push = true) {
  writeUrl(push);
  syncControls();
  return load();
}

function followPageLinks() {
  document.addEventListener("click", (event) => {
    const anchor = event.target.closest?.("a.page-link, a.farm-dot");
    if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    history.pushState(null, "", anchor.getAttribute("href"));
    readUrl(refs.latest);
    show(false);
    $("figures").focus();
  });
  window.addEventListener("popstate", () => {
    readUrl(refs.latest);
    show(false);
  });
}

function listenToControls() {
  initRange(() => show());
  $("miner-model").addEventListener("change", () => { state.model = $("miner-model").value; show(); });
  $("lead-party").addEventListener("change", () => { state.party = $("lead-party").value; state.farm = ""; show(); });
  $("farm").addEventListener("change", () => { state.farm = $("farm").value; if (state.farm) state.party = ""; show(); });
  $("periods-date").addEventListener("change", () => { state.day = $("periods-date").value; show(); });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); show(); });
}

async function loadReferences() {
  const [status, models, parties, units, farms] = await Promise.all([
    getJson("/status"), getJson("/miner-models"), getJson("/lead-parties", { limit: 500 }),
    getJson("/bm-units", { limit: 500 }), getJson("/farm-locations"),
  ]);
  refs.latest = renderStatus(status) ?? new Date().toISOString().slice(0, 10);
  refs.models = models.items.map((m) => m.name);
  for (const u of units.items) refs.units.set(u.elexon_bm_unit, u);
  for (const f of farms.items) refs.farms.set(f.elexon_bm_unit, f);
  for (const p of parties.items) refs.parties.set(p.lead_party_name, p);
  refs.farmList = units.items;
  readUrl(refs.latest);
  if (!refs.models.includes(state.model)) state.model = refs.models.includes("S21") ? "S21" : refs.models[0] ?? "";
  fillSelect($("miner-model"), models.items.map((m) => [m.name, `${m.name} · ${m.efficiency_j_per_th} J/TH`]), state.model);
  fillSelect($("lead-party"), parties.items.map((p) => [p.lead_party_name, p.lead_party_name]), state.party);
  fillFarms();
}

async function init() {
  // Signing in or out can change what the page may show (private analytics, roles): start afresh.
  document.addEventListener("windhash:signed-in", () => location.reload());
  document.addEventListener("windhash:signed-out", () => location.reload());
  initFleet();
  await initAccount();
  initCrm();
  try {
    await loadReferences();
    initMarket($("miner-model")); // draws on its own; a missing or failing market service never stops the rest
    initWindShare(refs.latest); // the context panel (wind-share.js), likewise on its own
  } catch (error) {
    showError(`Could not reach the API: ${error.message}`);
    document.body.dataset.state = "error";
    return;
  }
  listenToControls();
  followPageLinks();
  await show(false);
  const seconds = state.live === "" ? LIVE_SECONDS : Math.max(Number(state.live) || 0, 0);
  watchForChanges(seconds, () => [["/status", {}], [`/summaries/${spanPath()}`, place()]], async () => {
    renderStatus(await getJson("/status"));
    await load();
    document.body.dataset.liveUpdates = String(++liveUpdates);
  });
}

init();
