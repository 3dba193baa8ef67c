// Bar charts drawn as inline SVG: no library, no build step.
const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 1000;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 12, bottom: 30, left: 72 };

function element(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

// A "nice" axis maximum and step, so gridlines fall on round numbers.
function niceScale(maximum, ticks = 4) {
  if (!(maximum > 0)) return { top: 1, step: 0.25 };
  const raw = maximum / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return { top: step * ticks, step };
}

/**
 * Draw grouped bars.
 * points: [{label, values: {seriesKey: number|null}, title}], series: [{key, className, label}]
 * formatAxis: number -> string for the y axis.
 */
export function barChart(container, points, series, formatAxis) {
  container.replaceChildren();
  const svg = element("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "xMidYMid meet" });
  container.append(svg);
  const innerWidth = WIDTH - MARGIN.left - MARGIN.right;
  const innerHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = points.flatMap((p) => series.map((s) => p.values[s.key] ?? 0));
  const maximum = Math.max(0, ...values);
  if (points.length === 0 || maximum === 0) {
    svg.append(element("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "empty" },
      "No curtailment in this timeframe"));
    return svg;
  }
  const { top, step } = niceScale(maximum);
  const y = (v) => MARGIN.top + innerHeight - (Math.max(0, v) / top) * innerHeight;

  const grid = element("g", { class: "grid axis" });
  for (let tick = 0; tick <= top + step / 2; tick += step) {
    grid.append(element("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }));
    grid.append(element("text", { x: MARGIN.left - 8, y: y(tick) + 4, "text-anchor": "end" }, formatAxis(tick)));
  }
  svg.append(grid);

  const slot = innerWidth / points.length;
  const groupWidth = slot * 0.8;
  const barWidth = groupWidth / series.length;
  const labelEvery = Math.max(1, Math.ceil(points.length / 16));
  const bars = element("g", { class: "bars" });
  const labels = element("g", { class: "axis" });
  points.forEach((point, index) => {
    const x0 = MARGIN.left + index * slot + (slot - groupWidth) / 2;
    series.forEach((s, seriesIndex) => {
      const value = point.values[s.key];
      if (value === null || value === undefined) return;
      const rect = element("rect", {
        class: `bar ${s.className}`,
        x: x0 + seriesIndex * barWidth,
        y: y(value),
        width: Math.max(1, barWidth - 1),
        height: Math.max(0, y(0) - y(value)),
        "data-key": point.label,
      });
      rect.append(element("title", {}, `${point.title ?? point.label} · ${s.label}: ${s.format(value)}`));
      bars.append(rect);
    });
    if (index % labelEvery === 0) {
      labels.append(element("text", { x: x0 + groupWidth / 2, y: HEIGHT - 10, "text-anchor": "middle" },
        point.label));
    }
  });
  svg.append(bars, labels);
  return svg;
}
