// windhash dashboard, market panel: the market service's figures, reached through this origin's
// /api/v1/market/... (the API forwards them). BTC price, difficulty, hashprice of the chosen miner model against
// the average £/MWh paid to curtail wind over the same days (the API's own summaries), the indicators and their
// signal, CSV downloads. Hidden when this deployment has no market service. Every figure is computed by the
// services; the page only draws what they answer.
import { needLogin } from "./account.js";
import { lineChart } from "./charts.js";
import * as fmt from "./format.js";

const API = "/api/v1";
const MARKET = `${API}/market`;
const $ = (id) => document.getElementById(id);
const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
// Days shown → the resolution the market service downsamples to (each within its longest span).
const RESOLUTIONS = { 1: ["15min", 15 * 60 * 1000], 7: ["hour", HOUR_MS], 30: ["hour", HOUR_MS], 365: ["day", DAY_MS] };
const INDICATOR_DAYS = 30; // indicators are per snapshot: at most 31 days a request
let ticket = 0;

async function fetchJson(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null));
  const response = await fetch(`${path}${query.size ? `?${query}` : ""}`, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (response.status === 401) needLogin();
  return { status: response.status, body };
}

function failure(result) {
  const error = result.body?.error;
  return error ? `${error.message}${error.hint ? ` — ${error.hint}` : ""}` : `HTTP ${result.status}`;
}

function setState(panel, state, note = null) {
  panel.dataset.marketState = state;
  if (note !== null) $("market-note").textContent = note;
}

function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function csvUrl(path, params) {
  return `${path}?${new URLSearchParams({ ...params, format: "csv" })}`;
}

function statusNote(status) {
  const latest = status.latest;
  const outcomes = status.last_day;
  const problems = outcomes.refused + outcomes.missed;
  const parts = [
    `Newest snapshot ${fmt.dayTime(Date.parse(latest.slot_at))} (${fmt.age(status.age_seconds)})`,
    `last 24 h: ${outcomes.taken + outcomes.backfilled} snapshots` + (problems ? `, ${outcomes.refused} refused, ${outcomes.missed} missed` : ""),
  ];
  if (!status.collecting) parts.push("no market service is collecting now");
  if (status.problems.length) parts.push(`latest problem: ${status.problems[0].reason ?? status.problems[0].status}`);
  return parts.join(" · ");
}

function renderCards(status, hashprice, model, curtailment) {
  const latest = status.latest;
  $("market-price").textContent = fmt.gbp(latest.price_gbp);
  $("market-price-sub").textContent = `${fmt.usd(latest.price_usd)} · 24 h volume ${fmt.axis(latest.volume_24h_usd)} $`;
  $("market-difficulty").textContent = fmt.difficulty(latest.difficulty);
  $("market-difficulty-sub").textContent =
    `${fmt.plain(latest.hashrate_ehs, 1)} EH/s · block ${fmt.plain(latest.block_height)} · reward ${latest.block_reward_btc} BTC`;
  const row = hashprice.models.find((m) => m.miner_model === model) ?? null;
  $("market-hashprice-title").textContent = `Hashprice${model ? ` · ${model}` : ""}`;
  $("market-hashprice").textContent = row ? fmt.gbpPerMwh(row.gbp_per_mwh) : fmt.missing;
  $("market-hashprice-sub").textContent = row ? fmt.usdPerThDay(row.usd_per_th_day) : "not an active miner model";
  const paid = curtailment?.cashflow_gbp_per_mwh ?? null;
  $("market-curtail").textContent = fmt.gbpPerMwh(paid);
  $("market-curtail-sub").textContent = paid === null
    ? "no curtailment held for these days"
    : `average, ${curtailment.timeframe.first_date} to ${curtailment.timeframe.last_date}` +
      (row ? (row.gbp_per_mwh >= paid ? " · mining earns more" : " · curtailment pays more") : "");
  const indicators = status.indicators;
  const signal = $("market-signal");
  signal.textContent = indicators?.signal ?? fmt.missing;
  signal.dataset.signal = indicators?.signal ?? "";
  $("market-indicators").textContent = indicators
    ? `RSI ${fmt.plain(indicators.rsi_14, 1)} · MACD hist ${fmt.signed(indicators.macd_histogram)} · ` +
      `Bollinger ${fmt.usd(indicators.bb_lower)}–${fmt.usd(indicators.bb_upper)}`
    : "no indicators yet";
}

function renderModels(hashprice, paid) {
  const body = $("market-models").querySelector("tbody");
  body.replaceChildren(...hashprice.models.map((m) => {
    const tr = document.createElement("tr");
    const verdict = paid === null ? fmt.missing : m.gbp_per_mwh >= paid ? "mining earns more" : "curtailment pays more";
    for (const [text, className] of [
      [m.miner_model, ""], [fmt.gbpPerMwh(m.gbp_per_mwh), "num"], [fmt.usdPerThDay(m.usd_per_th_day), "num"],
      [fmt.usd(m.usd_per_miner_day), "num"], [verdict, ""],
    ]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  }));
}

// Axis times to suit the span drawn: hours within a day, day and hour within a fortnight, days beyond.
function timeFormat(points) {
  const span = points.length ? Date.parse(points[points.length - 1].bucket_at) - Date.parse(points[0].bucket_at) : 0;
  if (span <= 1.5 * DAY_MS) return fmt.time;
  return span <= 14 * DAY_MS ? fmt.dayHour : fmt.day;
}

function renderCharts(snapshots, series, paid, gapMs) {
  const formatTime = timeFormat(snapshots.points);
  const half = { gapMs, width: 560 };
  const at = (p) => Date.parse(p.bucket_at);
  const prices = snapshots.points.map((p) => ({ at: at(p), title: fmt.dayTime(at(p)), values: { gbp: p.price_gbp_close } }));
  lineChart($("chart-market-price"), prices,
    [{ key: "gbp", className: "price", label: "BTC price (£, close)", format: fmt.gbp }], fmt.axisPounds, formatTime, half);
  const hashprices = series.points.map((p) => ({ at: at(p), title: fmt.dayTime(at(p)), values: { hashprice: p.gbp_per_mwh } }));
  lineChart($("chart-market-hashprice"), hashprices,
    [{ key: "hashprice", className: "hashprice", label: `Hashprice, ${series.miner_model} (£/MWh)`, format: fmt.gbpPerMwh }],
    fmt.axisPounds, formatTime,
    { gapMs, reference: { value: paid, className: "curtailment", label: "Average paid to curtail wind (£/MWh)" } });
  const difficulties = snapshots.points.map((p) => ({ at: at(p), title: fmt.dayTime(at(p)), values: { difficulty: p.difficulty } }));
  lineChart($("chart-market-difficulty"), difficulties,
    [{ key: "difficulty", className: "difficulty", label: "Difficulty", format: fmt.difficulty }],
    fmt.axisDifficulty, formatTime, half);
}

export async function loadMarket(model) {
  const panel = $("market-panel");
  const mine = ++ticket;
  const days = Number($("market-range").value);
  const [resolution, gapMs] = RESOLUTIONS[days] ?? RESOLUTIONS[7];
  const now = Date.now();
  const start = new Date(now - days * DAY_MS).toISOString();
  const range = { start, resolution };
  setState(panel, "loading");
  try {
    const status = await fetchJson(`${MARKET}/status`, { problems: 5 });
    if (mine !== ticket) return;
    if (status.status === 404 && status.body?.error?.code === "not_found") {
      panel.hidden = true; // no market service behind this API
      setState(panel, "unavailable");
      return;
    }
    panel.hidden = false;
    if (status.status !== 200) throw new Error(failure(status));
    if (!status.body.latest) {
      setState(panel, "empty", "No market snapshot yet: the market service has not taken one (see /api/v1/market/status).");
      return;
    }
    const indicatorStart = new Date(now - Math.min(days, INDICATOR_DAYS) * DAY_MS).toISOString();
    const [snapshots, series, hashprice, curtailment] = await Promise.all([
      fetchJson(`${MARKET}/snapshots`, range),
      fetchJson(`${MARKET}/hashprice/series`, { ...range, miner_model: model }),
      fetchJson(`${MARKET}/hashprice`),
      fetchJson(`${API}/summaries/range/${isoDay(now - days * DAY_MS)}..${isoDay(now)}`),
    ]);
    if (mine !== ticket) return;
    for (const result of [snapshots, hashprice]) if (result.status !== 200) throw new Error(failure(result));
    const curtailed = curtailment.status === 200 ? curtailment.body : null;
    const paid = curtailed?.cashflow_gbp_per_mwh ?? null;
    const seriesBody = series.status === 200 ? series.body : { miner_model: model, points: [] };
    const synthetic = status.body.latest.synthetic || snapshots.body.points.some((p) => p.synthetic);
    $("market-synthetic").hidden = !synthetic;
    renderCards(status.body, hashprice.body, model, curtailed);
    renderModels(hashprice.body, paid);
    renderCharts(snapshots.body, seriesBody, paid, gapMs);
    $("market-csv").href = csvUrl(`${MARKET}/snapshots`, range);
    $("market-hashprice-csv").href = csvUrl(`${MARKET}/hashprice/series`, { ...range, miner_model: model });
    $("market-indicators-csv").href = csvUrl(`${MARKET}/indicators`, { start: indicatorStart });
    $("market-models-csv").href = csvUrl(`${MARKET}/hashprice`, {});
    $("market-note").textContent = statusNote(status.body);
    panel.dataset.marketLoaded = `${days}|${resolution}|${model}`;
    setState(panel, "ready");
  } catch (error) {
    if (mine !== ticket) return;
    setState(panel, "error", `Market data could not be loaded: ${error.message}`);
  }
}

export function initMarket(modelSelect) {
  const reload = () => loadMarket(modelSelect.value);
  $("market-range").addEventListener("change", reload);
  modelSelect.addEventListener("change", reload);
  return reload();
}
