// windhash dashboard: the CRM's pages, from /api/v1/crm (the API forwards them to the CRM service).
// Role-aware: sales staff and administrators see the pipeline, leads, deals and invoices (row-level security
// limits a salesperson to their own records); a client sees its organisation's invoices. Text from the API is
// only ever set as textContent; PDFs and CSVs are plain links the session cookie authorises.
import { barChart } from "./charts.js";

const CRM = "/api/v1/crm";
const $ = (id) => document.getElementById(id);
const VIEWS = ["pipeline", "leads", "deals", "invoices"];
const usd = new Intl.NumberFormat("en-GB", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

async function get(path) {
  const response = await fetch(`${CRM}${path}`, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message ?? `${path}: HTTP ${response.status}`);
  return body;
}

function money(text) {
  return usd.format(Number(text));
}

// Each column: a field name, a function of the row, or {num: either} for a right-aligned number.
function fill(tableId, rows, columns) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren();
  for (const item of rows) {
    const row = document.createElement("tr");
    for (const column of columns) {
      const td = document.createElement("td");
      const numeric = typeof column === "object";
      const read = numeric ? column.num : column;
      if (numeric) td.className = "num";
      const value = typeof read === "function" ? read(item) : item[read];
      if (value instanceof Node) td.append(value);
      else td.textContent = value ?? "–";
      row.append(td);
    }
    body.append(row);
  }
}

function link(href, text, download) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  if (download) a.setAttribute("download", download);
  return a;
}

function query(params) {
  const kept = Object.entries(params).filter(([, value]) => value !== "" && value !== null);
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
}

async function showPipeline() {
  const pipeline = await get("/pipeline");
  fill("pipeline-stages", pipeline.by_stage, [
    (s) => s.stage.replace("_", " "), { num: "deals" }, { num: (s) => money(s.value_usd) },
    { num: (s) => money(s.weighted_usd) },
  ]);
  fill("pipeline-forecast", pipeline.forecast_by_month, [
    "month", { num: "deals" }, { num: (m) => money(m.value_usd) }, { num: (m) => money(m.weighted_usd) },
  ]);
  $("pipeline-totals").textContent =
    `Open pipeline ${money(pipeline.open_value_usd)}, weighted ${money(pipeline.open_weighted_usd)}`;
  const points = pipeline.forecast_by_month.map((m) => ({
    label: m.month, values: { weighted: Number(m.weighted_usd) }, title: `${m.month}: ${money(m.weighted_usd)}`,
  }));
  const weighted = { key: "weighted", className: "btcvalue", label: "Weighted", format: (v) => usd.format(v) };
  barChart($("pipeline-chart"), points, [weighted], (value) => usd.format(value));
  $("pipeline-csv").href = `${CRM}/pipeline?format=csv`;
}

async function showLeads() {
  const params = { q: $("leads-search").value.trim(), status: $("leads-status").value };
  const leads = await get(`/leads${query(params)}`);
  fill("leads-table", leads, ["name", "company", "email", "status", { num: "score" }, "owner_email"]);
  $("leads-csv").href = `${CRM}/leads${query({ ...params, format: "csv" })}`;
}

async function showDeals() {
  const deals = await get("/deals");
  fill("deals-table", deals, [
    "title", (d) => d.stage.replace("_", " "), { num: (d) => money(d.value_usd) }, { num: (d) => `${d.probability}%` },
    "expected_close_date", "owner_email",
  ]);
  $("deals-csv").href = `${CRM}/deals?format=csv`;
}

async function showInvoices() {
  const invoices = await get("/invoices");
  fill("invoices-table", invoices, [
    "invoice_number", "bill_to", { num: (i) => money(i.amount_usd) }, "status", "issue_date", "due_date", "paid_date",
    (i) => link(i.pdf_url, "PDF", `${i.invoice_number}.pdf`),
  ]);
  $("invoices-csv").href = `${CRM}/invoices?format=csv`;
}

const SHOW = { pipeline: showPipeline, leads: showLeads, deals: showDeals, invoices: showInvoices };

export async function showCrm(view) {
  $("crm-panel").hidden = false;
  $("admin-panel").hidden = true;
  document.body.dataset.crm = "loading";
  for (const name of VIEWS) $(`crm-${name}`).hidden = name !== view;
  $("crm-error").textContent = "";
  try {
    await SHOW[view]();
  } catch (error) {
    $("crm-error").textContent = `Could not load the CRM: ${error.message}`;
  }
  document.body.dataset.crm = view;
}

export function initCrm() {
  for (const navLink of document.querySelectorAll(".crm-link")) {
    navLink.addEventListener("click", (event) => { event.preventDefault(); showCrm(navLink.dataset.view); });
  }
  $("leads-filters").addEventListener("submit", (event) => { event.preventDefault(); showCrm("leads"); });
  $("leads-status").addEventListener("change", () => showCrm("leads"));
}
