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

// A narrow screen gets a narrower drawing, so that its text stays legible once scaled down.
function fittingWidth(container) {
  const shown = container.clientWidth;
  return shown && shown < 640 ? 560 : WIDTH;
}

/**
 * Draw grouped bars.
 * points: [{label, values: {seriesKey: number|null}, title}], series: [{key, className, label}]
 * formatAxis: number -> string for the y axis. options.width: drawing width; options.empty: text when empty.
 */
export function barChart(container, points, series, formatAxis, options = {}) {
  container.replaceChildren();
  const width = options.width ?? fittingWidth(container);
  const svg = element("svg", { viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: "xMidYMid meet" });
  container.append(svg);
  const innerWidth = width - MARGIN.left - MARGIN.right;
  const innerHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = points.flatMap((p) => series.map((s) => p.values[s.key] ?? 0));
  const maximum = Math.max(0, ...values);
  if (points.length === 0 || maximum === 0) {
    svg.append(element("text", { x: width / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "empty" },
      options.empty ?? "No curtailment in this timeframe"));
    return svg;
  }
  const { top, step } = niceScale(maximum);
  const y = (v) => MARGIN.top + innerHeight - (Math.max(0, v) / top) * innerHeight;

  const grid = element("g", { class: "grid axis" });
  for (let tick = 0; tick <= top + step / 2; tick += step) {
    grid.append(element("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(tick), y2: y(tick) }));
    grid.append(element("text", { x: MARGIN.left - 8, y: y(tick) + 4, "text-anchor": "end" }, formatAxis(tick)));
  }
  svg.append(grid);

  const slot = innerWidth / points.length;
  const groupWidth = slot * 0.8;
  const barWidth = groupWidth / series.length;
  const labelEvery = Math.max(1, Math.ceil(points.length / (width < WIDTH ? 8 : 16)));
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

// A y range that starts and ends on round numbers around [low, high] (prices do not start at zero).
function niceRange(low, high, ticks = 4) {
  if (!(high > low)) {
    const pad = Math.abs(low) * 0.05 || 1;
    return niceRange(low - pad, high + pad, ticks);
  }
  const raw = (high - low) / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const bottom = Math.floor(low / step) * step;
  return { bottom, top: bottom + step * Math.ceil((high - bottom) / step), step };
}

/**
 * Draw lines over time.
 * points: [{at: epoch ms, values: {seriesKey: number|null}, title}], series: [{key, className, label, format}]
 * formatAxis: number -> string; formatTime: epoch ms -> string for the x axis.
 * options.gapMs: consecutive points further apart than this are not joined (a gap stays a gap).
 * options.reference: {value, className, label} draws a horizontal line across the chart (skipped when null).
 * options.width: the drawing's width in its own units (narrower for a half-width chart, so text stays legible).
 */
export function lineChart(container, points, series, formatAxis, formatTime, options = {}) {
  container.replaceChildren();
  const width = options.width ?? fittingWidth(container);
  const svg = element("svg", { viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: "xMidYMid meet" });
  container.append(svg);
  const values = points.flatMap((p) => series.map((s) => p.values[s.key])).filter((v) => v !== null && v !== undefined);
  const reference = options.reference?.value ?? null;
  if (reference !== null) values.push(reference);
  if (points.length === 0 || values.length === 0) {
    svg.append(element("text", { x: width / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "empty" },
      options.empty ?? "No data in this range"));
    return svg;
  }
  const { bottom, top, step } = niceRange(Math.min(...values), Math.max(...values));
  const innerWidth = width - MARGIN.left - MARGIN.right;
  const innerHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const first = points[0].at;
  const last = points[points.length - 1].at;
  const span = Math.max(last - first, 1);
  const x = (at) => MARGIN.left + ((at - first) / span) * innerWidth;
  const y = (v) => MARGIN.top + innerHeight - ((v - bottom) / (top - bottom)) * innerHeight;

  const grid = element("g", { class: "grid axis" });
  for (let tick = bottom; tick <= top + step / 2; tick += step) {
    grid.append(element("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(tick), y2: y(tick) }));
    grid.append(element("text", { x: MARGIN.left - 8, y: y(tick) + 4, "text-anchor": "end" }, formatAxis(tick)));
  }
  const labels = element("g", { class: "axis" });
  const labelCount = Math.min(Math.max(2, Math.floor(width / 140)), points.length);
  for (let index = 0; index < labelCount; index += 1) {
    const at = first + (span * index) / Math.max(labelCount - 1, 1);
    labels.append(element("text", { x: x(at), y: HEIGHT - 10, "text-anchor": "middle" }, formatTime(at)));
  }
  svg.append(grid, labels);

  if (reference !== null) {
    const line = element("line", {
      class: `reference ${options.reference.className ?? ""}`,
      x1: MARGIN.left, x2: width - MARGIN.right, y1: y(reference), y2: y(reference),
    });
    line.append(element("title", {}, `${options.reference.label}: ${formatAxis(reference)}`));
    svg.append(line);
  }
  const gapMs = options.gapMs ?? Infinity;
  for (const s of series) {
    let path = "";
    let previous = null;
    for (const point of points) {
      const value = point.values[s.key];
      if (value === null || value === undefined) {
        previous = null;
        continue;
      }
      const joined = previous !== null && point.at - previous <= gapMs;
      path += `${joined ? "L" : "M"}${x(point.at).toFixed(1)},${y(value).toFixed(1)}`;
      previous = point.at;
    }
    const line = element("path", { class: `line ${s.className}`, d: path, fill: "none" });
    line.append(element("title", {}, s.label));
    svg.append(line);
    const lastPoint = [...points].reverse().find((p) => p.values[s.key] !== null && p.values[s.key] !== undefined);
    if (lastPoint) {
      const dot = element("circle", { class: `dot ${s.className}`, cx: x(lastPoint.at), cy: y(lastPoint.values[s.key]), r: 3 });
      dot.append(element("title", {}, `${lastPoint.title ?? ""} · ${s.label}: ${s.format(lastPoint.values[s.key])}`));
      svg.append(dot);
    }
  }
  return svg;
}
