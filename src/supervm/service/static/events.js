// One EventSource on /api/events shared by every page. EventSource cannot send headers;
// the stream is a read-only GET, open without the token while the service is on loopback.
import { load } from "./settings.js";

const listeners = new Set();
const vmListeners = new Set();
let source = null;

function status(text) {
  const el = document.getElementById("live");
  if (el) el.textContent = `events: ${text}`;
}

export function connect() {
  if (source) source.close();
  source = new EventSource(`${load().apiBase}/api/events`);
  source.addEventListener("open", () => status("live"));
  // The browser reconnects by itself; say so rather than logging an error.
  source.addEventListener("error", () => status("reconnecting"));
  source.addEventListener("task", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    for (const fn of listeners) fn(event);
  });
  // The guests' progress (creating, stopping, world moves) comes as "vm" events.
  source.addEventListener("vm", (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    for (const fn of vmListeners) fn(event);
  });
}

// Call `fn` with every guest event until the returned function is called.
export function onVmEvent(fn) {
  vmListeners.add(fn);
  return () => vmListeners.delete(fn);
}

// Call `fn` with every task event until the returned function is called.
export function onTaskEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function disconnect() {
  if (source) source.close();
  source = null;
}
