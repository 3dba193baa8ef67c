// windhash dashboard: Great Britain with each located farm drawn as a circle whose area is its curtailed
// energy in the span. Positions come from the farm reference file (/api/v1/farm-locations: approximate);
// each circle is a link to the farm's page. Farms without a known position are listed beside the map.
import * as fmt from "./format.js";
import { GB_PATH, HEIGHT, WIDTH, project } from "./gb_outline.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_RADIUS = 22;

function svgElement(name, attributes = {}) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

// farms: /api/v1/farm-locations items; ranked: /top/bm-units items (energy per unit in the span);
// href(code): the farm page's link.
export function drawMap(container, unplacedList, farms, ranked, href) {
  const located = new Map(farms.filter((f) => f.latitude !== null).map((f) => [f.elexon_bm_unit, f]));
  const names = new Map(farms.map((f) => [f.elexon_bm_unit, f.farm_name]));
  const svg = svgElement("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "gb-map" });
  svg.append(svgElement("path", { d: GB_PATH, class: "coast" }));
  const largest = Math.max(0, ...ranked.map((r) => r.energy_mwh));
  const unplaced = [];
  // Largest first, so that a small farm's circle is drawn over a big neighbour's and stays clickable.
  for (const row of [...ranked].sort((a, b) => b.energy_mwh - a.energy_mwh)) {
    const farm = located.get(row.bm_unit);
    if (!farm) {
      unplaced.push(row);
      continue;
    }
    const [x, y] = project(farm.longitude, farm.latitude);
    const radius = largest > 0 ? Math.max(2, MAX_RADIUS * Math.sqrt(row.energy_mwh / largest)) : 2;
    const label = `${farm.farm_name ?? row.bm_unit} (${row.bm_unit}): ${fmt.mwh(row.energy_mwh)} curtailed, ` +
      `${fmt.gbp(row.cashflow_gbp)} paid`;
    const anchor = svgElement("a", { href: href(row.bm_unit), "aria-label": label, class: "farm-dot" });
    anchor.dataset.farm = row.bm_unit;
    const circle = svgElement("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: radius.toFixed(1) });
    const title = svgElement("title");
    title.textContent = label;
    circle.append(title);
    anchor.append(circle);
    svg.append(anchor);
  }
  container.replaceChildren(svg);
  unplacedList.replaceChildren(...unplaced.map((row) => {
    const item = document.createElement("li");
    const a = document.createElement("a");
    a.href = href(row.bm_unit);
    a.textContent = `${names.get(row.bm_unit) ?? row.bm_unit_name ?? row.bm_unit} (${row.bm_unit})`;
    item.append(a, ` ${fmt.mwh(row.energy_mwh)}`);
    return item;
  }));
  unplacedList.parentElement.hidden = unplaced.length === 0;
  return { placed: ranked.length - unplaced.length, unplaced: unplaced.length };
}
