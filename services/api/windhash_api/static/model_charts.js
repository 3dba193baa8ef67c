// windhash dashboard: the charts per miner model, the difficulty and price behind them, and one day's
// settlement periods. Each takes what the API answered and draws it; no figure is computed here.
import { barChart, lineChart } from "./charts.js";
import * as fmt from "./format.js";

const DAY_MS = 86400000;
const MODEL_CLASSES = 6; // m0..m5 in dashboard.css, then round again

function legend(element, entries) {
  element.replaceChildren(...entries.map(([className, text]) => {
    const item = document.createElement("span");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${className}`;
    item.append(swatch, text);
    return item;
  }));
}

const modelClass = (index) => `m${index % MODEL_CLASSES}`;

// BTC per model in each bucket of the chosen series; keys are the energy series' (every bucket, none missing).
export function drawModelSeries(container, legendElement, modelSeries, keys, models) {
  const btc = new Map();
  for (const p of modelSeries.points) btc.set(`${p.key}|${p.miner_model}`, p.btc);
  const series = models.map((model, index) => ({
    key: model, className: modelClass(index), label: `${model} BTC`, format: fmt.btc,
  }));
  const points = keys.map((key) => ({
    label: modelSeries.by === "day" ? key.slice(5) : key,
    title: key,
    values: Object.fromEntries(models.map((m) => [m, btc.get(`${key}|${m}`) ?? 0])),
  }));
  barChart(container, points, series, (v) => fmt.plain(v, v < 1 ? 3 : 1), { empty: "No bitcoin in this range" });
  legend(legendElement, models.map((m, i) => [modelClass(i), m]));
}

// Every model side by side: the value of the BTC it could have mined against what the farms were paid.
export function drawModelComparison(container, tableBody, comparison) {
  const points = comparison.models.map((m) => ({
    label: m.miner_model, title: m.miner_model, values: { value: m.value_gbp, paid: comparison.cashflow_gbp },
  }));
  barChart(container, points, [
    { key: "value", className: "btcvalue", label: "Bitcoin value", format: fmt.gbp },
    { key: "paid", className: "cashflow", label: "Paid to farms", format: fmt.gbp },
  ], fmt.axisPounds, { empty: "No curtailment in this range" });
  tableBody.replaceChildren(...comparison.models.map((m) => {
    const tr = document.createElement("tr");
    for (const [text, className] of [
      [m.miner_model, ""], [fmt.btc(m.btc), "num"], [fmt.gbp(m.value_gbp), "num"],
      [fmt.gbpPerMwh(m.value_gbp_per_mwh), "num"], [fmt.ratio(m.value_to_cashflow_ratio), "num"],
      [m.days_without_price ? `${m.days_without_price} day(s) without a price` : "", ""],
    ]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  }));
}

// The difficulty each day's BTC was computed with, and the day's BTC price; a day without one is a gap.
export function drawDifficultyPrice(difficultyElement, priceElement, answer) {
  const at = (day) => Date.parse(`${day}T00:00:00Z`);
  const days = answer.days;
  const format = days.length > 62 ? (ms) => new Date(ms).toISOString().slice(0, 7) : fmt.day;
  const options = { gapMs: DAY_MS * 1.5, width: 560, empty: "No difficulty held for these days" };
  lineChart(difficultyElement, days.map((d) => ({ at: at(d.day), title: d.day, values: { difficulty: d.difficulty_max } })),
    [{ key: "difficulty", className: "difficulty", label: "Difficulty", format: fmt.difficulty }],
    fmt.axisDifficulty, format, options);
  lineChart(priceElement, days.map((d) => ({ at: at(d.day), title: d.day, values: { price: d.price_gbp } })),
    [{ key: "price", className: "price", label: "BTC price (£)", format: fmt.gbp }],
    fmt.axisPounds, format, { ...options, empty: "No BTC price held for these days" });
  const missing = days.filter((d) => d.price_gbp === null && d.periods_held).length;
  return missing ? `${missing} day(s) with curtailment have no BTC price: their bitcoin has no £ value.` : "";
}

const PERIOD_NOTES = {
  46: "46 settlement periods: the clocks went forward (23-hour day)",
  48: "48 settlement periods",
  50: "50 settlement periods: the clocks went back (25-hour day)",
};

// One day's energy by settlement period; the day's length (46, 48 or 50 periods) is said, not assumed.
export function drawPeriods(container, noteElement, answer) {
  const points = answer.periods.map((p) => ({
    label: String(p.settlement_period),
    title: `Period ${p.settlement_period} (${p.period_start_local.slice(11, 16)} local)` +
      (p.status ? "" : " · not ingested"),
    values: { energy: p.energy_mwh },
  }));
  barChart(container, points, [{ key: "energy", className: "energy", label: "Curtailed", format: fmt.mwh }],
    fmt.axis, { empty: "No curtailment on this day" });
  container.dataset.periods = String(answer.periods_in_day);
  noteElement.textContent = `${PERIOD_NOTES[answer.periods_in_day] ?? `${answer.periods_in_day} periods`} · ` +
    `${fmt.mwh(answer.energy_mwh)} curtailed, ${fmt.gbp(answer.cashflow_gbp)} paid`;
}
