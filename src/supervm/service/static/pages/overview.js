// Overview: world status, this host's use, task statistics, quick actions, recent activity.
import { api, el, seconds, stateBadge, when } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { onTaskEvent } from "../events.js";
// The Resource Monitor keeps the history; the overview samples through it too.
import { historyOf, sample } from "./resources.js";

// Events are recorded from the start, whatever page is shown, so the list is there on return.
const activity = [];
const describe = (event) =>
  `${new Date().toLocaleTimeString()} ${event.kind || "task"} ${event.id} → ${event.state}`;
onTaskEvent((event) => {
  activity.unshift(describe(event));
  activity.splice(20);
});

function stat(value, key) {
  return el("div", { class: "stat" }, el("div", { class: "v" }, value), el("div", { class: "k" }, key));
}

function uptime(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min ${Math.floor(s % 60)} s`;
}

export function render(main, ctx) {
  const status = el("section", { class: "panel", "aria-labelledby": "ov-status" },
    el("h2", { id: "ov-status" }, "System status"), el("p", { class: "notice" }, "Loading…"));
  const use = el("section", { class: "panel", "aria-labelledby": "ov-use" },
    el("h2", { id: "ov-use" }, "Utilisation"), el("p", { class: "notice" }, "Loading…"));
  const stats = el("section", { class: "panel", "aria-labelledby": "ov-stats" },
    el("h2", { id: "ov-stats" }, "Task statistics"), el("p", { class: "notice" }, "Loading…"));
  const actionMsg = el("p", { class: "muted", role: "status" });
  const actions = el("section", { class: "panel", "aria-labelledby": "ov-actions" },
    el("h2", { id: "ov-actions" }, "Quick actions"),
    el("div", { class: "row" },
      el("button", { type: "button", id: "demo-sort", onclick: async () => {
        actionMsg.textContent = "Submitting…";
        try {
          const t = await api("/api/super-vm/process", { method: "POST", body: {
            kind: "sort", input: { random: { n: 100000, dtype: "float64", dist: "uniform", seed: 1 } } } });
          actionMsg.replaceChildren("Queued ", el("a", { href: `#/tasks?id=${t.id}` }, t.id));
        } catch (err) {
          actionMsg.textContent = err.message;
        }
      } }, "Submit a demo sort (100,000 doubles)"),
      el("a", { href: "#/tasks" }, "Open the Task Manager")),
    actionMsg);
  const recent = el("ul", { class: "activity", id: "recent" });
  const events = el("ul", { class: "activity", id: "event-log" },
    ...activity.map((line) => el("li", {}, line)));
  const recentPanel = el("section", { class: "panel", "aria-labelledby": "ov-recent" },
    el("h2", { id: "ov-recent" }, "Recent activity"),
    el("h3", {}, "Latest tasks"), recent, el("h3", {}, "Live events"), events);
  main.append(el("h1", {}, "Overview"), el("div", { class: "grid" }, status, use, stats, actions, recentPanel));

  ctx.onTask(() => {
    events.prepend(el("li", {}, activity[0]));
    while (events.children.length > 20) events.lastChild.remove();
    refreshRecent();
  });

  async function refreshRecent() {
    try {
      const page = await api("/api/tasks?limit=8");
      recent.replaceChildren(...(page.tasks.length ? page.tasks.map((t) => el("li", {},
        stateBadge(t.state), " ", el("a", { href: `#/tasks?id=${t.id}` }, t.kind), " ",
        el("span", { class: "muted" }, `${when(t.created_at)} · ${seconds(t.duration_s)}`)))
        : [el("li", { class: "notice" }, "No tasks yet.")]));
    } catch (err) {
      recent.replaceChildren(el("li", { class: "error-text" }, err.message));
    }
  }

  ctx.every(async () => {
    try {
      const [s, m, r] = await Promise.all([api("/api/super-vm/status"),
        api("/api/super-vm/metrics"), sample()]);
      status.replaceChildren(status.firstChild, el("div", { class: "stats" },
        stat(s.world.state, "world"), stat(String(s.world.size), "ranks"),
        stat(String(s.queue_length), "queued"), stat(uptime(s.uptime_s), "uptime"),
        stat(String(s.world.restarts), "world restarts"), stat(s.version, "version")),
        s.world.last_error ? el("p", { class: "error-text" }, s.world.last_error) : "");
      const host = r.hosts[0];
      use.replaceChildren(use.firstChild, el("div", { class: "stats" },
        stat(`${host.cpu.percent.toFixed(0)}%`, `CPU (${host.cpu.count})`),
        stat(`${host.memory.used_percent.toFixed(0)}%`, "memory"),
        stat(String(host.gpus.length), "GPUs")),
        lineChart([{ name: "CPU %", values: historyOf(host.host, 0) },
          { name: "memory %", values: historyOf(host.host, 1) }],
        { label: "CPU and memory use of this host" }));
      const byState = m.jobs.by_state;
      stats.replaceChildren(stats.firstChild, el("div", { class: "stats" },
        stat(String(m.jobs.total), "tasks"), stat(seconds(m.durations_s.run.p50), "run p50"),
        stat(seconds(m.durations_s.run.p95), "run p95"),
        stat(m.throughput.jobs_per_s.toFixed(2), "jobs/s (1 min)"),
        stat(m.jobs.total ? `${Math.round((100 * (byState.done || 0)) / m.jobs.total)}%` : "–", "succeeded")),
        barChart(Object.entries(byState).map(([label, value]) => ({ label, value })),
          { label: "Tasks by state" }));
    } catch (err) {
      status.replaceChildren(status.firstChild, el("p", { class: "error-text" }, err.message));
    }
    refreshRecent();
  });
}
