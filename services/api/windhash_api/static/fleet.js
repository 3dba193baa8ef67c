// windhash dashboard: the hosting fleet page, for the roles that may read miners (a client sees its own
// miners only: the fleet service answers through row-level security). Reads /api/v1/fleet/overview, which
// the API forwards to the fleet's own service. Text from the API is only ever set as textContent.
import { barChart } from "./charts.js";
import * as fmt from "./format.js";
import { tableRow } from "./ranking_tables.js";

const $ = (id) => document.getElementById(id);
const FLEET_ROLES = new Set(["client", "user", "admin", "owner"]);
const number = (value) => (value === null || value === undefined ? null : Number(value));

function kw(value) {
  const kilowatts = number(value);
  if (kilowatts === null) return fmt.missing;
  return kilowatts >= 1000 ? `${fmt.plain(kilowatts / 1000, 2)} MW` : `${fmt.plain(kilowatts, 1)} kW`;
}

function ths(value) {
  const rate = number(value);
  if (rate === null) return fmt.missing;
  return rate >= 1000 ? `${fmt.plain(rate / 1000, 2)} PH/s` : `${fmt.plain(rate, 1)} TH/s`;
}

function useBar(percent) {
  const bar = document.createElement("span");
  bar.className = "use-bar";
  bar.title = percent === null ? "no capacity" : `${fmt.plain(percent, 1)} % of capacity`;
  const fill = document.createElement("span");
  fill.style.width = `${Math.min(100, Math.max(0, percent ?? 0))}%`;
  bar.append(fill);
  return bar;
}

function fill(id, rows) {
  $(id).querySelector("tbody").replaceChildren(...rows);
}

function render(overview) {
  const counts = overview.counts;
  $("fleet-power").textContent = kw(overview.power_now_kw);
  $("fleet-power-sub").textContent = `of ${fmt.plain(number(overview.capacity_mw), 1)} MW capacity`;
  $("fleet-hashrate").textContent = ths(overview.hashrate_now_ths);
  $("fleet-hashrate-sub").textContent = `${fmt.plain(counts.reporting)} miners reporting`;
  $("fleet-online").textContent = fmt.plain(counts.reporting);
  $("fleet-online-sub").textContent =
    `of ${fmt.plain(counts.miners)} miners · ${fmt.plain(counts.curtailed)} curtailed · ${fmt.plain(counts.maintenance)} in maintenance`;
  $("fleet-offline").textContent = fmt.plain(counts.offline);
  $("fleet-offline-sub").textContent = "stopped answering the collector";
  $("fleet-note").textContent = `Readings every ${fmt.plain(overview.poll_interval_s)} s`;
  fill("fleet-sites", overview.sites.map((site) => tableRow([
    [site.name], [kw(site.power_now_kw), "num"], [`${fmt.plain(number(site.power_capacity_mw), 1)} MW`, "num"],
    [useBar(number(site.utilisation_pct))], [fmt.plain(site.miners), "num"], [fmt.plain(site.reporting), "num"],
    [fmt.plain(site.offline), "num"], [fmt.plain(site.curtailed), "num"],
  ])));
  fill("fleet-hottest", overview.hottest.map((miner) => tableRow([
    [miner.serial_number], [miner.site_name], [fmt.plain(miner.temperature_c, 1), "num"],
    [fmt.plain(miner.hashrate_ths, 1), "num"],
  ])));
  fill("fleet-least-efficient", overview.least_efficient.map((miner) => tableRow([
    [miner.serial_number], [miner.site_name], [fmt.plain(number(miner.j_per_th), 1), "num"],
    [fmt.plain(miner.hashrate_ths, 1), "num"],
  ])));
  const points = overview.hashrate_by_hour.map((hour) => ({
    label: hour.period_start.slice(11, 16),
    title: `${hour.period_start.slice(0, 16).replace("T", " ")} UTC`,
    values: { hashrate: number(hour.avg_hashrate_ths) },
  }));
  barChart($("fleet-chart"), points,
    [{ key: "hashrate", className: "btcvalue", label: "Average hashrate", format: ths }], fmt.axis);
}

async function show() {
  $("fleet-panel").hidden = false;
  document.body.dataset.fleet = "loading";
  const response = await fetch("/api/v1/fleet/overview", { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    $("fleet-note").textContent = body?.error?.message ?? `The fleet service answered ${response.status}`;
    document.body.dataset.fleet = "error";
    return;
  }
  render(body);
  document.body.dataset.fleet = "ready";
}

export function initFleet() {
  const link = $("fleet-link");
  link.addEventListener("click", (event) => { event.preventDefault(); show(); });
  document.addEventListener("windhash:role", (event) => {
    link.hidden = !FLEET_ROLES.has(event.detail);
    if (link.hidden) $("fleet-panel").hidden = true;
    else if (location.hash === "#fleet") show();
  });
}
