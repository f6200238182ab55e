// Settings: API endpoint, token, refresh interval, theme; stored in localStorage.
import { clearBanner, el, showBanner } from "../api.js";
import { connect } from "../events.js";
import { DEFAULTS, load, save } from "../settings.js";

export function render(main) {
  const s = load();
  const form = el("form", { class: "panel", id: "settings-form" },
    el("label", {}, "API base URL (empty: this page's origin)",
      el("input", { name: "apiBase", id: "set-api", type: "url", value: s.apiBase,
        placeholder: location.origin })),
    el("label", {}, "Token",
      el("input", { name: "token", id: "set-token", type: "password", value: s.token,
        autocomplete: "off" })),
    el("label", {}, "Refresh interval (ms)",
      el("input", { name: "refreshMs", id: "set-refresh", type: "number", min: 500, step: 500,
        value: s.refreshMs })),
    el("label", {}, "Theme",
      el("select", { name: "theme", id: "set-theme" },
        ...["light", "dark"].map((t) => el("option", { value: t, selected: t === s.theme }, t)))),
    el("div", { class: "row" },
      el("button", { type: "submit" }, "Save"),
      el("button", { type: "button", class: "secondary", id: "set-reset", onclick: () => {
        save(DEFAULTS);
        connect();
        render(main.replaceChildren() || main);
      } }, "Reset to defaults")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const refresh = Math.max(500, Number(data.get("refreshMs")) || DEFAULTS.refreshMs);
    save({ apiBase: String(data.get("apiBase")).replace(/\/+$/, ""),
      token: String(data.get("token")).trim(), refreshMs: refresh, theme: data.get("theme") });
    connect();  // the events stream follows a changed API base
    clearBanner();
    showBanner("Settings saved.", "info");
  });
  main.append(el("h1", {}, "Settings"), form,
    el("p", { class: "muted" }, "The token is printed by ", el("code", {}, "supervm serve"),
      " and kept in ", el("code", {}, "<state dir>/token"),
      ". On loopback, reads are open; submitting, cancelling and downloading results need it."));
}
