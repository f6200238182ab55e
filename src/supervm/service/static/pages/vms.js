// VM Manager: the launcher's guests (GET/POST /api/vms, DELETE /api/vms/{id},
// POST /api/vms/{id}/start|stop). Creating answers at once; the run's phases arrive as "vm"
// events (and in the listing's runs) until it is ready or failed.
import { api, bytes, el, stateBadge } from "../api.js";

const PHASES = ["planned", "network", "defined", "started", "ready"];

export function render(main, ctx) {
  const msg = el("p", { role: "status", class: "muted", id: "vm-msg" });
  const list = el("div", { id: "vm-list", class: "table-wrap" }, el("p", { class: "notice" }, "Loading…"));
  const runs = el("div", { id: "vm-runs" });
  const selected = new Set();
  let busy = false;

  async function act(ids, action) {
    msg.textContent = `${action}: ${ids.length} guest(s)…`;
    busy = true;
    const failures = [];
    for (const id of ids) {
      try {
        if (action === "delete") await api(`/api/vms/${encodeURIComponent(id)}`, { method: "DELETE" });
        else await api(`/api/vms/${encodeURIComponent(id)}/${action}`, { method: "POST" });
        selected.delete(id);
      } catch (err) {
        failures.push(`${id}: ${err.message}`);
      }
    }
    busy = false;
    msg.textContent = failures.length ? `Failed: ${failures.join("; ")}` : `${action}: done (${ids.join(", ")})`;
    refresh();
  }

  function bulk(action, label, cls) {
    return el("button", { type: "button", class: cls, id: `vm-bulk-${action}`, onclick: () => {
      const ids = [...selected];
      if (!ids.length) { msg.textContent = "Select guests first."; return; }
      if (action === "delete" && !confirm(`Delete ${ids.length} guest(s)?`)) return;
      act(ids, action);
    } }, label);
  }

  function table(vms) {
    const all = el("input", { type: "checkbox", id: "vm-select-all", "aria-label": "Select all guests",
      checked: vms.length > 0 && vms.every((vm) => selected.has(vm.id)),
      onchange: (e) => {
        for (const vm of vms) e.target.checked ? selected.add(vm.id) : selected.delete(vm.id);
        list.querySelectorAll("tbody input[type=checkbox]").forEach((c) => { c.checked = e.target.checked; });
      } });
    const running = (vm) => vm.state === "running";
    return el("table", {},
      el("caption", { class: "muted" }, `${vms.length} guest(s)`),
      el("thead", {}, el("tr", {}, el("th", {}, all), el("th", { scope: "col" }, "Name"),
        el("th", { scope: "col" }, "State"), el("th", { scope: "col" }, "vCPUs"),
        el("th", { scope: "col" }, "Memory"), el("th", { scope: "col", class: "hide-narrow" }, "Address"),
        el("th", { scope: "col", class: "hide-narrow" }, "Run"), el("th", { scope: "col" }, "Actions"))),
      el("tbody", {}, ...vms.map((vm) => el("tr", { "data-vm": vm.id, "data-state": vm.state },
        el("td", {}, el("input", { type: "checkbox", "aria-label": `Select ${vm.id}`,
          checked: selected.has(vm.id),
          onchange: (e) => (e.target.checked ? selected.add(vm.id) : selected.delete(vm.id)) })),
        el("td", { class: "mono" }, vm.id),
        el("td", {}, stateBadge(vm.busy || vm.state || "unknown", running(vm) ? "vm" : ""),
          vm.accel ? el("span", { class: "muted" }, ` ${vm.accel}`) : null),
        el("td", {}, String(vm.vcpus ?? "–")),
        el("td", {}, vm.memory_mib ? bytes(vm.memory_mib * 2 ** 20) : "–"),
        el("td", { class: "mono hide-narrow" }, vm.address || "–"),
        el("td", { class: "mono hide-narrow" }, vm.run || "–"),
        el("td", {}, el("div", { class: "row" },
          el("button", { type: "button", class: "secondary", "data-action": "start",
            disabled: running(vm) || Boolean(vm.busy), "aria-label": `Start ${vm.id}`,
            onclick: () => act([vm.id], "start") }, "Start"),
          el("button", { type: "button", class: "secondary", "data-action": "stop",
            disabled: !running(vm) || Boolean(vm.busy), "aria-label": `Stop ${vm.id}`,
            onclick: () => act([vm.id], "stop") }, "Stop"),
          el("button", { type: "button", class: "danger", "data-action": "delete",
            disabled: Boolean(vm.busy), "aria-label": `Delete ${vm.id}`, onclick: () => {
              if (confirm(`Delete ${vm.id}?`)) act([vm.id], "delete");
            } }, "Delete")))))));
  }

  function runPanel(records) {
    const shown = records.filter((r) => r.phase !== "ready" || r.world);
    if (!shown.length) return [];
    return el("ul", { class: "runs" }, ...shown.map((r) => el("li", { "data-run": r.run },
      el("span", { class: "mono" }, `run ${r.run}`), " ", stateBadge(r.phase || "unknown"),
      r.world ? el("span", { class: "muted" }, " (the world runs here)") : null,
      r.phase && PHASES.includes(r.phase) && r.phase !== "ready"
        ? el("progress", { max: PHASES.length - 1, value: PHASES.indexOf(r.phase),
          "aria-label": `run ${r.run}: ${r.phase}` }) : null,
      r.phase === "failed" ? el("div", { role: "alert", class: "error" },
        el("p", {}, `Failed at ${r.stage || "?"}: ${r.error || "no reason given"}`),
        r.console_tail ? el("pre", { class: "console" }, r.console_tail) : null,
        el("button", { type: "button", class: "secondary", onclick: async () => {
          await api(`/api/vms?run=${encodeURIComponent(r.run)}`, { method: "DELETE" }).catch(() => {});
          refresh();
        } }, "Dismiss")) : null)));
  }

  async function refresh() {
    if (busy) return;
    try {
      const answer = await api("/api/vms");
      const vms = answer.vms || [];
      list.replaceChildren(vms.length ? table(vms) : el("p", { class: "notice" }, "No guests."));
      runs.replaceChildren(...[runPanel(answer.runs || [])].flat());
    } catch (err) {
      list.replaceChildren(el("p", { class: "notice", id: "vm-absent" }, err.status === 404
        ? "No guests (the launcher is not configured)." : err.message));
    }
  }

  const createError = el("div", { id: "vm-create-error", role: "alert", class: "error", hidden: true });
  const progress = el("p", { id: "vm-create-progress", role: "status", class: "muted" });
  const numberField = (label, name, attrs) => el("label", {}, label,
    el("input", { name, type: "number", required: true, ...attrs }));
  const create = el("form", { class: "panel", id: "vm-create", "aria-labelledby": "vm-create-h" },
    el("h2", { id: "vm-create-h" }, "Create guests"),
    el("div", { class: "row" },
      el("label", {}, "Name", el("input", { name: "name", required: true, value: "workers" })),
      numberField("Guests", "guests", { min: 1, max: 64, value: 2 }),
      numberField("vCPUs", "vcpus", { min: 1, value: 1 }),
      numberField("Memory (MiB)", "memory_mib", { min: 256, step: 256, value: 1024 }),
      el("label", {}, "Acceleration", el("select", { name: "accel" },
        el("option", { value: "tcg" }, "tcg (emulation)"), el("option", { value: "kvm" }, "kvm"),
        el("option", { value: "auto" }, "auto"))),
      el("label", {}, "Subnet", el("input", { name: "subnet", value: "10.78.0.0/24", class: "mono" }))),
    el("label", {}, "Or a named spec (a file under the service's launch/; overrides the fields above)",
      el("input", { name: "spec", id: "vm-spec-name", placeholder: "two-tcg" })),
    el("button", { type: "submit", id: "vm-create-submit" }, "Create"), createError, progress);
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(create);
    const named = data.get("spec").trim();
    const body = named ? { spec: named } : {
      name: data.get("name"), kind: "hostfs",
      hosts: [{ guests: Number(data.get("guests")), vcpus: Number(data.get("vcpus")),
        memory_mib: Number(data.get("memory_mib")), accel: data.get("accel") }],
      network: { subnet: data.get("subnet") },
    };
    createError.hidden = true;
    try {
      const answer = await api("/api/vms", { method: "POST", body });
      progress.dataset.run = answer.run;
      progress.textContent = `Creating run ${answer.run} (${answer.guests.length} guest(s)): planned`;
      refresh();
    } catch (err) {
      createError.textContent = err.status === 404
        ? "The launcher is not configured on this service." : `Cannot create: ${err.message}`;
      createError.hidden = false;
    }
  });

  ctx.onVm((event) => {
    if (event.run && event.run === progress.dataset.run) {
      progress.textContent = `Run ${event.run}: ${event.phase}` +
        (event.phase === "failed" ? ` at ${event.stage}: ${event.error}` : "");
    }
    refresh();
  });

  main.append(el("h1", {}, "VM Manager"),
    el("section", { class: "panel", "aria-labelledby": "vm-list-h" },
      el("h2", { id: "vm-list-h" }, "Guests"),
      el("div", { class: "row" }, bulk("start", "Start selected", "secondary"),
        bulk("stop", "Stop selected", "secondary"), bulk("delete", "Delete selected", "danger")),
      msg, list, runs),
    create);
  ctx.every(refresh);
}
