// Resource Monitor: polls /api/super-vm/resources every refresh interval and keeps the
// history in memory (module scope, so it survives switching pages) for the line charts.
import { api, bytes, el } from "../api.js";
import { lineChart } from "../charts.js";

const HISTORY = 120;
const history = new Map();  // host -> {cpu: [], mem: []}

export async function sample() {
  const answer = await api("/api/super-vm/resources");
  for (const h of answer.hosts) {
    const entry = history.get(h.host) || { cpu: [], mem: [] };
    entry.cpu.push(h.cpu.percent);
    entry.mem.push(h.memory.used_percent);
    entry.cpu.splice(0, Math.max(0, entry.cpu.length - HISTORY));
    entry.mem.splice(0, Math.max(0, entry.mem.length - HISTORY));
    history.set(h.host, entry);
  }
  return answer;
}

// Return the kept CPU (which 0) or memory (which 1) history of `host`.
export function historyOf(host, which) {
  const entry = history.get(host);
  return entry ? (which ? entry.mem : entry.cpu) : [];
}

function hostPanel(h, nodes) {
  const entry = history.get(h.host) || { cpu: [], mem: [] };
  const node = nodes.find((n) => n.id === h.host);
  const alerts = [];
  if (h.cpu.percent > 90) alerts.push(`CPU at ${h.cpu.percent.toFixed(0)}%`);
  if (h.memory.used_percent > 90) alerts.push(`memory at ${h.memory.used_percent.toFixed(0)}%`);
  return el("section", { class: "panel", "aria-label": `Node ${h.host}` },
    el("h2", {}, `Node ${h.host}`),
    el("div", { class: "stats" },
      el("div", { class: "stat" }, el("div", { class: "v" }, `${h.cpu.percent.toFixed(0)}%`),
        el("div", { class: "k" }, `CPU of ${h.cpu.count}`)),
      el("div", { class: "stat" }, el("div", { class: "v" }, `${h.memory.used_percent.toFixed(0)}%`),
        el("div", { class: "k" }, `memory of ${bytes(h.memory.total_bytes)}`)),
      el("div", { class: "stat" }, el("div", { class: "v" }, String(node ? node.ranks.length : 0)),
        el("div", { class: "k" }, "MPI ranks")),
      el("div", { class: "stat" }, el("div", { class: "v" }, String(h.gpus.length)),
        el("div", { class: "k" }, "GPUs"))),
    alerts.length ? el("p", { class: "error-text" }, `Threshold alert: ${alerts.join(", ")}`) : null,
    el("h3", {}, "CPU and memory use (%)"),
    lineChart([{ name: "CPU %", values: entry.cpu }, { name: "memory %", values: entry.mem }],
      { label: `CPU and memory history of ${h.host}`, points: HISTORY }),
    ...h.gpus.map((g) => el("p", {}, `GPU ${g.index} ${g.name}: ${g.utilization_percent}% busy, `
      + `${bytes(g.memory_used_bytes)} of ${bytes(g.memory_total_bytes)}`)));
}

export function render(main, ctx) {
  const body = el("div", { class: "grid", id: "resource-panels" }, el("p", { class: "notice" }, "Loading…"));
  main.append(el("h1", {}, "Resource Monitor"),
    el("p", { class: "muted" }, "Sampled every refresh interval; the last ", String(HISTORY),
      " samples are kept while the dashboard is open."), body);
  ctx.every(async () => {
    try {
      const answer = await sample();
      body.replaceChildren(...answer.hosts.map((h) => hostPanel(h, answer.nodes)));
    } catch (err) {
      body.replaceChildren(el("p", { class: "error-text" }, err.message));
    }
  });
}
