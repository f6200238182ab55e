// VM Manager: the launcher's guests (GET/POST /api/vms, DELETE /api/vms/{id},
// POST /api/vms/{id}/start|stop). A service without the launcher answers 404, shown as such.
import { api, bytes, el, stateBadge } from "../api.js";

export function render(main, ctx) {
  const msg = el("p", { role: "status", class: "muted", id: "vm-msg" });
  const list = el("div", { id: "vm-list", class: "table-wrap" }, el("p", { class: "notice" }, "Loading…"));
  const selected = new Set();

  async function act(ids, action) {
    msg.textContent = `${action} ${ids.length} guest(s)…`;
    const failures = [];
    for (const id of ids) {
      try {
        if (action === "delete") await api(`/api/vms/${encodeURIComponent(id)}`, { method: "DELETE" });
        else await api(`/api/vms/${encodeURIComponent(id)}/${action}`, { method: "POST" });
      } catch (err) {
        failures.push(`${id}: ${err.message}`);
      }
    }
    msg.textContent = failures.length ? `Failed: ${failures.join("; ")}` : `${action}: done`;
    refresh();
  }

  function bulk(action, label, cls) {
    return el("button", { type: "button", class: cls, onclick: () => {
      const ids = [...selected];
      if (!ids.length) { msg.textContent = "Select guests first."; return; }
      if (action === "delete" && !confirm(`Delete ${ids.length} guest(s)?`)) return;
      act(ids, action);
    } }, label);
  }

  function table(vms) {
    const all = el("input", { type: "checkbox", "aria-label": "Select all guests", onchange: (e) => {
      for (const vm of vms) e.target.checked ? selected.add(vm.id) : selected.delete(vm.id);
      list.querySelectorAll("tbody input[type=checkbox]").forEach((c) => { c.checked = e.target.checked; });
    } });
    return el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, all), el("th", {}, "Name"), el("th", {}, "State"),
        el("th", {}, "vCPUs"), el("th", {}, "Memory"), el("th", { class: "hide-narrow" }, "Address"),
        el("th", { class: "hide-narrow" }, "Host"), el("th", {}, "Actions"))),
      el("tbody", {}, ...vms.map((vm) => el("tr", { "data-vm": vm.id },
        el("td", {}, el("input", { type: "checkbox", "aria-label": `Select ${vm.name || vm.id}`,
          checked: selected.has(vm.id),
          onchange: (e) => (e.target.checked ? selected.add(vm.id) : selected.delete(vm.id)) })),
        el("td", {}, vm.name || vm.id), el("td", {}, stateBadge(vm.state || "unknown", "vm")),
        el("td", {}, String(vm.vcpus ?? "–")),
        el("td", {}, vm.memory_mib ? bytes(vm.memory_mib * 2 ** 20) : "–"),
        el("td", { class: "mono hide-narrow" }, vm.address || "–"),
        el("td", { class: "hide-narrow" }, vm.host || "–"),
        el("td", {}, el("div", { class: "row" },
          el("button", { type: "button", class: "secondary", onclick: () => act([vm.id], "start") }, "Start"),
          el("button", { type: "button", class: "secondary", onclick: () => act([vm.id], "stop") }, "Stop"),
          el("button", { type: "button", class: "danger", onclick: () => {
            if (confirm(`Delete ${vm.name || vm.id}?`)) act([vm.id], "delete");
          } }, "Delete")))))));
  }

  async function refresh() {
    try {
      const answer = await api("/api/vms");
      const vms = answer.vms || [];
      list.replaceChildren(vms.length ? table(vms) : el("p", { class: "notice" }, "No guests."));
    } catch (err) {
      list.replaceChildren(el("p", { class: "notice", id: "vm-absent" }, err.status === 404
        ? "No guests (the launcher is not configured)." : err.message));
    }
  }

  const create = el("form", { class: "panel", id: "vm-create", "aria-labelledby": "vm-create-h" },
    el("h2", { id: "vm-create-h" }, "Create a guest"),
    el("div", { class: "row" },
      el("label", {}, "Name", el("input", { name: "name", required: true, value: "worker-1" })),
      el("label", {}, "vCPUs", el("input", { name: "vcpus", type: "number", min: 1, value: 2 })),
      el("label", {}, "Memory (MiB)", el("input", { name: "memory_mib", type: "number", min: 256, step: 256, value: 2048 }))),
    el("label", {}, "More of the spec (JSON object, optional)",
      el("textarea", { name: "extra", placeholder: '{"kind": "hostfs"}' })),
    el("button", { type: "submit" }, "Create"));
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(create);
    let extra = {};
    try {
      extra = data.get("extra").trim() ? JSON.parse(data.get("extra")) : {};
    } catch (err) {
      msg.textContent = `The extra spec is not JSON: ${err.message}`;
      return;
    }
    try {
      await api("/api/vms", { method: "POST", body: { name: data.get("name"),
        vcpus: Number(data.get("vcpus")), memory_mib: Number(data.get("memory_mib")), ...extra } });
      msg.textContent = "Guest created.";
      refresh();
    } catch (err) {
      msg.textContent = err.status === 404 ? "The launcher is not configured on this service." : err.message;
    }
  });

  main.append(el("h1", {}, "VM Manager"),
    el("section", { class: "panel", "aria-labelledby": "vm-list-h" },
      el("h2", { id: "vm-list-h" }, "Guests"),
      el("div", { class: "row" }, bulk("start", "Start selected", "secondary"),
        bulk("stop", "Stop selected", "secondary"), bulk("delete", "Delete selected", "danger")),
      msg, list),
    create);
  ctx.every(refresh);
}
