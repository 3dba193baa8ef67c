// windhash dashboard: curtailment plans (list, detail with timeline and miners, measured power) and the
// backtest of curtailment policies, from the plans service behind /api/v1/plans (the API forwards there).
// Text from the API is only ever set as textContent; the session cookie goes with every call.
import { barChart } from "./charts.js";

const API = "/api/v1/plans";
const $ = (id) => document.getElementById(id);
const SIGNED_IN_ROLES = new Set(["client", "user", "admin", "owner"]);
const STAFF = new Set(["user", "admin", "owner"]);
const when = (text) => (text ? text.slice(0, 16).replace("T", " ") : "–");
const mw = (value) => (value === null || value === undefined ? "–" : Number(value).toFixed(3));
const gbp = (value) => {
  const amount = Math.abs(Number(value)).toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${Number(value) < 0 ? "−" : ""}£${amount}`;
};

async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of [].concat(value)) if (item !== "" && item !== null) query.append(key, item);
  }
  const response = await fetch(`${API}${path}${query.size ? `?${query}` : ""}`, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error;
    throw new Error(error ? `${error.message}${error.hint ? ` — ${error.hint}` : ""}` : `HTTP ${response.status}`);
  }
  return body;
}

// One row per item; a cell is right-aligned when its header is (class "num").
function fill(tableId, rows, columns, onRow) {
  const table = $(tableId);
  const numeric = [...table.querySelectorAll("thead th")].map((th) => th.classList.contains("num"));
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const item of rows) {
    const row = document.createElement("tr");
    columns.forEach((column, index) => {
      const cell = document.createElement("td");
      cell.textContent = String(column(item) ?? "–");
      if (numeric[index]) cell.classList.add("num");
      row.append(cell);
    });
    if (onRow) {
      row.classList.add("clickable");
      row.addEventListener("click", () => onRow(item));
    }
    body.append(row);
  }
}

function showError(message) {
  $("plans-error").textContent = message;
  $("plans-error").hidden = !message;
}

async function showList() {
  const site = $("plans-site").value;
  const list = await get("/", { site_id: site, limit: 100 });
  fill("plans-table", list.plans, [
    (p) => p.plan_id,
    (p) => p.site_name,
    (p) => p.plan_type + (p.miner_model ? ` (${p.miner_model})` : ""),
    (p) => `${p.status} · ${p.phase}`,
    (p) => mw(p.target_reduction_mw),
    (p) => mw(p.power_reduced_mw),
    (p) => p.miners_affected,
    (p) => when(p.scheduled_at),
    (p) => when(p.recovery_at),
  ], (p) => showDetail(p.plan_id).catch((error) => showError(error.message)));
  $("plans-total").textContent = `${list.total} plans`;
}

async function showDetail(planId) {
  const plan = await get(`/${planId}`);
  $("plan-detail").hidden = false;
  $("plan-title").textContent = `Plan ${plan.plan_id} · ${plan.site_name} · ${plan.plan_type}`;
  $("plan-summary").textContent =
    `${plan.status} · ${plan.phase}. Target ${mw(plan.target_reduction_mw)} MW; measured ` +
    `${mw(plan.power_before_mw)} → ${mw(plan.power_after_mw)} MW, reduced ${mw(plan.power_reduced_mw)} MW` +
    (plan.failure_reason ? `. Failed: ${plan.failure_reason}` : "") + ".";
  fill("plan-timeline", plan.timeline, [
    (e) => when(e.occurred_at),
    (e) => e.event_type,
    (e) => `${e.status} · ${e.phase}`,
    (e) => e.actor,
    (e) => Object.entries(e.details).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("; "),
  ]);
  fill("plan-miners", plan.miners, [
    (m) => m.shutdown_order,
    (m) => m.serial_number,
    (m) => m.miner_model,
    (m) => Number(m.efficiency_j_per_th).toFixed(1),
    (m) => m.sleep_state ? `${m.sleep_state}${m.sleep_observed ? " (found asleep)" : ""} ${when(m.slept_at)}` : "–",
    (m) => m.wakeup_state ? `${m.wakeup_state}${m.wakeup_observed ? " (found awake)" : ""} ${when(m.woken_at)}` : "–",
    (m) => (m.power_before_w === null ? "–" : Math.round(m.power_before_w)),
    (m) => (m.power_after_w === null ? "–" : Math.round(m.power_after_w)),
  ]);
  document.body.dataset.plan = String(plan.plan_id);
}

async function runBacktest(event) {
  event.preventDefault();
  const form = event.target;
  const policies = form.policies.value.split(",").map((p) => p.trim()).filter(Boolean);
  const result = await get("/backtest", { site_id: form.site.value, from: form.first.value, to: form.last.value, policy: policies });
  fill("backtest-table", result.results, [
    (r) => r.policy,
    (r) => Number(r.totals.curtailed_mwh).toFixed(3),
    (r) => gbp(r.totals.saved_gbp),
    (r) => Number(r.totals.btc_forgone).toFixed(8),
    (r) => gbp(r.totals.forgone_gbp),
    (r) => gbp(r.totals.net_gbp),
    (r) => r.changes,
  ]);
  const chosen = result.results[0];
  const points = (chosen?.by_day ?? []).map((day) => ({
    label: day.day.slice(5),
    title: day.day,
    values: { saved: Number(day.saved_gbp), forgone: Number(day.forgone_gbp) },
  }));
  barChart($("backtest-chart"), points, [
    { key: "saved", className: "btcvalue", label: "£ saved on power", format: gbp },
    { key: "forgone", className: "cashflow", label: "£ of mining forgone", format: gbp },
  ], (value) => gbp(value));
  const skipped = Object.entries(result.periods_skipped).map(([why, n]) => `${n} ${why}`).join(", ");
  $("backtest-note").textContent =
    `${result.periods_evaluated} half hours replayed${skipped ? `; skipped: ${skipped}` : ""}. ` +
    `Chart: ${chosen ? chosen.policy : "–"} by day.` + (result.synthetic_prices ? " Power prices are SYNTHETIC." : "");
  document.body.dataset.backtest = "done";
}

async function openPlans(event) {
  event?.preventDefault();
  $("plans-panel").hidden = false;
  $("backtest-section").hidden = !STAFF.has(document.body.dataset.role);
  showError("");
  try {
    await showList();
    document.body.dataset.plans = "shown";
  } catch (error) {
    showError(error.message);
  }
}

function roleChanged() {
  const role = document.body.dataset.role;
  $("nav-plans").hidden = !SIGNED_IN_ROLES.has(role);
  if (!SIGNED_IN_ROLES.has(role)) $("plans-panel").hidden = true;
}

export function initPlans() {
  $("nav-plans").addEventListener("click", openPlans);
  $("plans-refresh").addEventListener("click", openPlans);
  $("backtest-form").addEventListener("submit", (event) => runBacktest(event).catch((error) => showError(error.message)));
  new MutationObserver(roleChanged).observe(document.body, { attributes: true, attributeFilter: ["data-role"] });
  roleChanged();
}

initPlans();
