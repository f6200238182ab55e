// Small SVG charts drawn here: no library, so nothing is fetched at run time.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

const COLORS = ["var(--chart-1)", "var(--chart-2)", "var(--chart-3)", "var(--chart-4)"];

function legend(items) {
  const div = document.createElement("div");
  div.className = "legend";
  items.forEach(({ name }, i) => {
    const span = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = COLORS[i % COLORS.length];
    span.append(swatch, name);
    div.append(span);
  });
  return div;
}

// Line chart of series [{name, values}] on 0..max; the newest value is at the right.
export function lineChart(series, { max = 100, unit = "%", points = 60, label = "" } = {}) {
  const W = 480, H = 160, L = 34, B = 18;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  for (const frac of [0, 0.5, 1]) {
    const y = (H - B) - frac * (H - B - 6);
    root.append(svg("line", { x1: L, x2: W, y1: y, y2: y, class: "axis" }));
    const t = svg("text", { x: 2, y: y + 4 });
    t.textContent = `${Math.round(frac * max)}${unit}`;
    root.append(t);
  }
  series.forEach(({ values }, i) => {
    const shown = values.slice(-points);
    if (!shown.length) return;
    const R = W - 4;  // room for the newest sample's dot
    const step = (R - L) / Math.max(points - 1, 1);
    const x0 = R - (shown.length - 1) * step;
    const d = shown.map((v, j) => {
      const y = (H - B) - Math.min(Math.max(v / max, 0), 1) * (H - B - 6);
      return `${j ? "L" : "M"}${(x0 + j * step).toFixed(1)},${y.toFixed(1)}`;
    }).join(" ");
    root.append(svg("path", { d, fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 2 }));
    // A dot on the newest sample: a single sample is a path of no length, drawn as nothing.
    const [lx, ly] = d.split(" ").pop().slice(1).split(",");
    root.append(svg("circle", { cx: lx, cy: ly, r: 3, fill: COLORS[i % COLORS.length] }));
  });
  const wrap = document.createElement("div");
  wrap.className = "chart";
  wrap.append(root, legend(series));
  return wrap;
}

// Horizontal bar chart of items [{label, value}].
export function barChart(items, { label = "" } = {}) {
  const W = 300, row = 22, L = 80;
  const H = Math.max(items.length, 1) * row + 4;
  const max = Math.max(1, ...items.map((d) => d.value));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  items.forEach((d, i) => {
    const y = i * row + 2;
    const name = svg("text", { x: 0, y: y + 14 });
    name.textContent = d.label;
    const w = ((W - L - 40) * d.value) / max;
    const bar = svg("rect", { x: L, y, width: Math.max(w, 1), height: row - 6, rx: 3,
      fill: COLORS[i % COLORS.length] });
    const value = svg("text", { x: L + w + 4, y: y + 14 });
    value.textContent = String(d.value);
    root.append(name, bar, value);
  });
  const wrap = document.createElement("div");
  wrap.className = "chart";
  wrap.append(root);
  return wrap;
}
