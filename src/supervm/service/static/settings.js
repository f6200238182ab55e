// The dashboard's settings, kept in localStorage so they survive a reload.
const KEY = "supervm.dashboard";

// 5000 ms like the older system's SUPERVM_REFRESH_INTERVAL; "" means the page's own origin.
export const DEFAULTS = Object.freeze({ apiBase: "", token: "", refreshMs: 5000, theme: "light" });

export function load() {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(KEY) || "{}") };
  } catch {
    return { ...DEFAULTS };  // a corrupt entry must not lock the user out of the dashboard
  }
}

export function save(changes) {
  const next = { ...load(), ...changes };
  localStorage.setItem(KEY, JSON.stringify(next));
  applyTheme(next.theme);
  return next;
}

export function applyTheme(theme) {
  document.documentElement.dataset.theme = theme === "dark" ? "dark" : "light";
}
