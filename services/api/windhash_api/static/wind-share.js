// windhash dashboard, context panel: the curtailed share of wind output by month of the latest year with data
// (curtailed ÷ (metered wind output + curtailed), Elexon FUELHH), and the estimated CO₂ curtailed wind could
// have avoided had it displaced gas, labelled as an estimate. The panel adds itself to <main>, so the
// dashboard only calls initWindShare(latestIsoDate); it stays hidden while no wind output is stored.
import { barChart } from "./charts.js";
import * as fmt from "./format.js";

const API = "/api/v1";
const percent = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`);

function element(name, attributes = {}, text = null) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function panel() {
  const existing = document.getElementById("wind-share-panel");
  if (existing) return existing;
  const section = element("section", {
    class: "panel wind-share", id: "wind-share-panel", "aria-label": "Curtailed share of wind output",
  });
  section.hidden = true;
  section.append(
    element("h2", { id: "wind-share-title" }, "Curtailed share of wind output"),
    element("p", { class: "wind-share-note", id: "wind-share-note" }, "Loading wind output…"),
    element("div", { class: "chart", id: "chart-wind-share", role: "img", "aria-label": "Curtailed share by month" }),
    element("p", { class: "wind-share-co2", id: "wind-share-co2" }),
  );
  document.querySelector("main").append(section);
  return section;
}

async function getJson(path) {
  const response = await fetch(`${API}${path}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${path}`);
  return response.json();
}

export async function initWindShare(latestIsoDate) {
  const section = panel();
  const year = latestIsoDate.slice(0, 4);
  section.dataset.windShareState = "loading";
  try {
    const [share, co2] = await Promise.all([
      getJson(`/wind-share/yearly/${year}?by=month`), getJson(`/co2-avoided/yearly/${year}?by=month`),
    ]);
    if (!share.total.periods_with_output) {
      section.dataset.windShareState = "empty";
      return;
    }
    section.hidden = false;
    document.getElementById("wind-share-title").textContent = `Curtailed share of wind output, ${year}`;
    document.getElementById("wind-share-note").textContent =
      `${percent(share.total.curtailed_share_of_metered)} of what metered wind could have given was curtailed `
      + `(${fmt.mwh(share.total.curtailed_mwh)} curtailed against ${fmt.mwh(share.total.metered_wind_mwh)} generated).`;
    const points = share.points.map((point) => ({
      label: point.key,
      values: { share: point.curtailed_share_of_metered },
      title: `${point.key}: ${percent(point.curtailed_share_of_metered)} curtailed`,
    }));
    barChart(document.getElementById("chart-wind-share"), points,
      [{ key: "share", className: "energy", label: "Curtailed share", format: percent }], percent);
    document.getElementById("wind-share-co2").textContent =
      `Estimate: ${fmt.plain(co2.total.co2_avoided_t)} t CO₂ avoided had the curtailed energy displaced gas `
      + `(${co2.emissions_factor_t_per_mwh} t/MWh; method in ${co2.method}).`;
    section.dataset.windShareState = "ready";
  } catch (error) {
    section.hidden = false;
    document.getElementById("wind-share-note").textContent = `Wind output unavailable: ${error.message}`;
    section.dataset.windShareState = "error";
  }
}
