// Every call to the service goes through here: the base URL and bearer token from the
// settings, and one clear message for each way a call can fail.
import { load } from "./settings.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const banner = () => document.getElementById("banner");

export function showBanner(text, kind = "error") {
  const el = banner();
  el.textContent = text;
  el.className = kind === "error" ? "banner" : "banner info";
  el.hidden = false;
}

export function clearBanner() {
  banner().hidden = true;
}

export const TOKEN_MESSAGE =
  "Wrong or missing token: the service refused the request (401). Enter the token printed by " +
  "`supervm serve` (or in <state dir>/token) under Settings.";

function describe(status, body, method, path) {
  if (!body || typeof body !== "object") return `${method} ${path} failed with ${status}`;
  let text = body.error || `${method} ${path} failed with ${status}`;
  if (Array.isArray(body.detail) && body.detail.length) {
    text += ": " + body.detail.map((d) => `${d.field}: ${d.message}`).join("; ");
  }
  return text;
}

// Return the parsed JSON answer (or a Blob when `as` is "blob"); throw ApiError otherwise.
export async function api(path, { method = "GET", body, as = "json" } = {}) {
  const { apiBase, token } = load();
  const headers = {};
  // The token goes with every call, not only those that need it: on a non-loopback
  // service every read needs it too.
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let answer;
  try {
    answer = await fetch(apiBase + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const msg = `Cannot reach the service at ${apiBase || location.origin}: ${err.message}`;
    showBanner(msg);
    throw new ApiError(0, msg);
  }
  if (answer.status === 401) {
    showBanner(TOKEN_MESSAGE);
    document.getElementById("token-prompt").hidden = false;
    throw new ApiError(401, TOKEN_MESSAGE);
  }
  if (!answer.ok) {
    let parsed = null;
    try { parsed = await answer.json(); } catch { /* not JSON: describe by status */ }
    throw new ApiError(answer.status, describe(answer.status, parsed, method, path));
  }
  return as === "blob" ? answer.blob() : answer.json();
}

// Small helpers the pages share.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

export function when(unixSeconds) {
  return unixSeconds ? new Date(unixSeconds * 1000).toLocaleTimeString() : "–";
}

export function seconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
}

export function bytes(n) {
  if (!n && n !== 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function stateBadge(state, extra = "") {
  return el("span", { class: `state state-${state} ${extra}`.trim(), text: state });
}
