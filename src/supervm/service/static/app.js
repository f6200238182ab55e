// Hash routing (#/overview, #/vms, ...): each page is a module with render(main, ctx);
// ctx hands out timers and event subscriptions that are undone when the page changes.
import { clearBanner, showBanner } from "./api.js";
import { connect, onTaskEvent, onVmEvent } from "./events.js";
import { applyTheme, load, save } from "./settings.js";
import * as overview from "./pages/overview.js";
import * as vms from "./pages/vms.js";
import * as tasks from "./pages/tasks.js";
import * as resources from "./pages/resources.js";
import * as settings from "./pages/settings.js";

const PAGES = { overview, vms, tasks, resources, settings };
let cleanups = [];

function context() {
  return {
    // Run fn now and every refresh interval while the page is shown.
    every(fn) {
      fn();
      const id = setInterval(fn, load().refreshMs);
      cleanups.push(() => clearInterval(id));
    },
    onTask(fn) { cleanups.push(onTaskEvent(fn)); },
    onVm(fn) { cleanups.push(onVmEvent(fn)); },
    cleanup(fn) { cleanups.push(fn); },
  };
}

async function route() {
  for (const fn of cleanups) fn();
  cleanups = [];
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const page = PAGES[name] ? name : "overview";
  document.querySelectorAll("#nav a").forEach((a) => {
    if (a.getAttribute("href") === `#/${page}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  const main = document.getElementById("main");
  main.replaceChildren();
  main.dataset.page = page;
  try {
    await PAGES[page].render(main, context());
  } catch (err) {
    showBanner(`The ${page} page failed: ${err.message}`);
  }
  // Move focus to the page so keyboard users land on the new content.
  if (document.activeElement && document.activeElement.closest("#nav")) main.focus();
}

function tokenPrompt() {
  const prompt = document.getElementById("token-prompt");
  prompt.hidden = Boolean(load().token);
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("token-input");
    save({ token: input.value.trim() });
    input.value = "";
    prompt.hidden = true;
    clearBanner();
    showBanner("Token saved.", "info");
  });
  document.getElementById("token-later").addEventListener("click", () => { prompt.hidden = true; });
}

applyTheme(load().theme);
tokenPrompt();
connect();
window.addEventListener("hashchange", route);
route();
