// windhash dashboard: the totals cards and the energy and money charts of the span and place shown.
import { barChart } from "./charts.js";
import * as fmt from "./format.js";

const $ = (id) => document.getElementById(id);

export function renderCards(summary, comparison, model) {
  const row = comparison.models.find((m) => m.miner_model === model) ?? null;
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

export function renderCharts(series) {
  const by = series.by;
  const label = (key) => (by === "day" ? key.slice(8) : by === "month" ? key.slice(0, 7) : key);
  const points = series.points.map((p) => ({
    label: label(p.key),
    title: by === "period" ? `Settlement period ${p.key}` : p.key,
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
