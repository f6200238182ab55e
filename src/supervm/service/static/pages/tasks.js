// Task Manager: submit sort, reduce and render tasks; list, filter and search every task;
// one task's transitions, per-phase timings and result (values, or the rendered frames).
import { api, el, seconds, stateBadge, when } from "../api.js";

const STATES = ["queued", "running", "done", "failed", "cancelled"];
const KINDS = ["sort", "argsort", "sum", "min", "max", "mean", "var", "std", "histogram", "render"];
const PAGE = 20;
const SINCE = { any: 0, "15 min": 900, "1 hour": 3600, "1 day": 86400 };

function select(name, id, options, value) {
  return el("select", { name, id }, ...options.map((o) => el("option", { value: o, selected: o === value }, o)));
}

function numbersOf(text) {
  const values = text.split(/[\s,;]+/).filter(Boolean).map(Number);
  if (!values.length || values.some((v) => !Number.isFinite(v))) {
    throw new Error("enter numbers separated by commas or spaces");
  }
  return values;
}

// The input part shared by the sort and reduce forms: inline numbers, or a seeded generator.
function inputFields(prefix) {
  const mode = (value, text, checked) => el("label", { class: "inline" },
    el("input", { type: "radio", name: "mode", value, checked }), text);
  return el("fieldset", {}, el("legend", {}, "Input"),
    el("div", { class: "row" }, mode("inline", "Numbers", true), mode("random", "Random", false)),
    el("label", {}, "Numbers", el("textarea", { name: "values", id: `${prefix}-values` }, "5, 3, 9, 1, 3")),
    el("div", { class: "row" },
      el("label", {}, "n", el("input", { name: "n", type: "number", min: 1, value: 100000, id: `${prefix}-n` })),
      el("label", {}, "dtype", select("dtype", `${prefix}-dtype`, ["float64", "float32", "int64", "int32"], "float64")),
      el("label", {}, "distribution", select("dist", `${prefix}-dist`,
        ["uniform", "normal", "zipf", "sorted", "reversed", "few-distinct", "all-equal"], "uniform")),
      el("label", {}, "seed", el("input", { name: "seed", type: "number", value: 1, id: `${prefix}-seed` }))));
}

// Return the /process body of a sort or reduce form.
function processBody(data, extra) {
  if (data.get("mode") === "random") {
    return { kind: data.get("operation"), ...extra, input: { random: { n: Number(data.get("n")),
      dtype: data.get("dtype"), dist: data.get("dist"), seed: Number(data.get("seed")) } } };
  }
  const parameters = { ...extra };
  return { inputData: numbersOf(data.get("values")), operation: data.get("operation"),
    ...(Object.keys(parameters).length ? { parameters } : {}) };
}

export function render(main, ctx) {
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "");
  let offset = 0;
  let selectedId = wanted.get("id");
  let shownState = null;
  const urls = [];
  ctx.cleanup(() => urls.forEach((u) => URL.revokeObjectURL(u)));

  const submitMsg = el("p", { role: "status", id: "submit-msg", class: "muted" });
  async function submit(path, body) {
    submitMsg.textContent = "Submitting…";
    try {
      const t = await api(path, { method: "POST", body });
      submitMsg.textContent = `Queued ${t.kind} task ${t.id}.`;
      selectedId = t.id;
      shownState = null;
      refreshList();
      showDetails();
    } catch (err) {
      submitMsg.textContent = err.message;
    }
  }

  const sortForm = el("form", { class: "panel", id: "sort-form", "aria-labelledby": "sort-h" },
    el("h2", { id: "sort-h" }, "Sort"),
    el("label", {}, "Operation", select("operation", "sort-op", ["sort", "argsort"], "sort")),
    inputFields("sort"), el("button", { type: "submit", id: "sort-submit" }, "Submit sort"));
  sortForm.addEventListener("submit", (e) => {
    e.preventDefault();
    try { submit("/api/super-vm/process", processBody(new FormData(sortForm), {})); }
    catch (err) { submitMsg.textContent = err.message; }
  });

  const reduceForm = el("form", { class: "panel", id: "reduce-form", "aria-labelledby": "reduce-h" },
    el("h2", { id: "reduce-h" }, "Reduce"),
    el("div", { class: "row" },
      el("label", {}, "Operation", select("operation", "reduce-op", ["sum", "min", "max", "mean", "var", "histogram"], "sum")),
      el("label", {}, "Bins (histogram)", el("input", { name: "bins", type: "number", min: 1, value: 10, id: "reduce-bins" }))),
    inputFields("reduce"), el("button", { type: "submit", id: "reduce-submit" }, "Submit reduction"));
  reduceForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(reduceForm);
    const extra = data.get("operation") === "histogram" ? { bins: Number(data.get("bins")) } : {};
    try { submit("/api/super-vm/process", processBody(data, extra)); }
    catch (err) { submitMsg.textContent = err.message; }
  });

  const renderForm = el("form", { class: "panel", id: "render-form", "aria-labelledby": "render-h" },
    el("h2", { id: "render-h" }, "Render"),
    el("label", {}, "Scene file (under the service's data/ directory)",
      el("input", { name: "sceneFile", id: "render-scene", value: "spheres.json", required: true })),
    el("div", { class: "row" },
      el("label", {}, "First frame", el("input", { name: "frameStart", id: "render-start", type: "number", min: 1, value: 1 })),
      el("label", {}, "Last frame", el("input", { name: "frameEnd", id: "render-end", type: "number", min: 1, value: 1 })),
      el("label", {}, "Quality", select("quality", "render-quality", ["low", "medium", "high"], "low")),
      el("label", {}, "Resolution", el("input", { name: "resolution", id: "render-resolution", value: "160x90",
        pattern: "\\d+x\\d+", size: 9 }))),
    el("button", { type: "submit", id: "render-submit" }, "Submit render"));
  renderForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(renderForm);
    submit("/api/super-vm/render", { sceneFile: d.get("sceneFile"), frameStart: Number(d.get("frameStart")),
      frameEnd: Number(d.get("frameEnd")), options: { quality: d.get("quality"), resolution: d.get("resolution") } });
  });

  // The list: state and kind filter on the server; search and time range on the shown page.
  const stateSel = select("state", "filter-state", ["any", ...STATES], "any");
  const kindSel = select("kind", "filter-kind", ["any", ...KINDS], "any");
  const search = el("input", { type: "search", id: "filter-search", placeholder: "id or kind" });
  const since = select("since", "filter-since", Object.keys(SINCE), "any");
  const rows = el("tbody", { id: "task-rows" });
  const pageInfo = el("span", { class: "muted", id: "page-info" });
  const prev = el("button", { type: "button", class: "secondary", onclick: () => { offset = Math.max(0, offset - PAGE); refreshList(); } }, "Previous");
  const next = el("button", { type: "button", class: "secondary", onclick: () => { offset += PAGE; refreshList(); } }, "Next");
  for (const c of [stateSel, kindSel]) c.addEventListener("change", () => { offset = 0; refreshList(); });
  for (const c of [search, since]) c.addEventListener("input", () => refreshList());

  async function refreshList() {
    const q = new URLSearchParams({ offset, limit: PAGE });
    if (stateSel.value !== "any") q.set("state", stateSel.value);
    if (kindSel.value !== "any") q.set("kind", kindSel.value);
    try {
      const page = await api(`/api/tasks?${q}`);
      const term = search.value.trim().toLowerCase();
      const after = SINCE[since.value] ? Date.now() / 1000 - SINCE[since.value] : 0;
      const shown = page.tasks.filter((t) => (!term || t.id.includes(term) || t.kind.includes(term))
        && t.created_at >= after);
      rows.replaceChildren(...(shown.length ? shown.map((t) => el("tr", { "data-task": t.id },
        el("td", {}, el("button", { type: "button", class: "secondary mono", "aria-label": `Details of task ${t.id}`,
          onclick: () => { selectedId = t.id; shownState = null; showDetails(); } }, t.id.slice(0, 8))),
        el("td", {}, t.kind), el("td", {}, stateBadge(t.state)),
        el("td", { class: "hide-narrow" }, when(t.created_at)), el("td", {}, seconds(t.duration_s))))
        : [el("tr", {}, el("td", { colspan: 5, class: "notice" }, "No tasks match."))]));
      pageInfo.textContent = page.total ? `${offset + 1}–${Math.min(offset + PAGE, page.total)} of ${page.total}` : "";
      prev.disabled = offset === 0;
      next.disabled = offset + PAGE >= page.total;
    } catch (err) {
      rows.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "error-text" }, err.message)));
    }
  }

  const details = el("section", { class: "panel", id: "task-details", "aria-labelledby": "details-h", "aria-live": "polite" },
    el("h2", { id: "details-h" }, "Task details"), el("p", { class: "notice" }, "Select a task."));

  async function resultView(t) {
    if (t.state !== "done") return t.error ? el("p", { class: "error-text" }, t.error) : null;
    if (t.result !== null && t.result !== undefined) {
      return el("div", { id: "task-result" }, el("h3", {}, "Result"),
        el("pre", { class: "mono values" }, JSON.stringify(t.result, null, 1)));
    }
    // Results need the token, so images are fetched as blobs and shown through object URLs.
    const blob = await api(t.result_url, { as: "blob" });
    if (blob.type.startsWith("image/")) return frames(t, [{ frame: null, blob }]);
    const answer = JSON.parse(await blob.text());
    if (answer.frames) {
      const got = await Promise.all(answer.frames.map(async (f) => ({ frame: f.frame, blob: await api(f.url, { as: "blob" }) })));
      return frames(t, got);
    }
    if (answer.values) {
      const first = answer.values.slice(0, 20);
      return el("div", { id: "task-result" }, el("h3", {}, "Result"),
        el("p", {}, `${answer.n} values; the first ${first.length}:`),
        el("p", { class: "mono values", id: "sorted-values" }, first.join(", ")));
    }
    return el("div", { id: "task-result" }, el("h3", {}, "Result"),
      el("p", {}, "The result is large; download it as .npy with the token (see the README)."));
  }

  function frames(t, got) {
    return el("div", { id: "task-result" }, el("h3", {}, "Frames"), el("div", { class: "frames" },
      ...got.map(({ frame, blob }) => {
        const url = URL.createObjectURL(blob);
        urls.push(url);
        return el("img", { src: url, alt: `Frame ${frame ?? ""} of render task ${t.id}`.replace("  ", " ") });
      })));
  }

  async function showDetails() {
    if (!selectedId) return;
    let t;
    try {
      t = await api(`/api/tasks/${encodeURIComponent(selectedId)}`);
    } catch (err) {
      details.replaceChildren(details.firstChild, el("p", { class: "error-text" }, err.message));
      return;
    }
    if (t.state === shownState) return;  // nothing new: keep the images and focus as they are
    shownState = t.state;
    const parts = [details.firstChild,
      el("p", {}, el("span", { class: "mono" }, t.id), " ", t.kind, " ", stateBadge(t.state)),
      el("p", { class: "muted" }, `submitted ${when(t.created_at)}, ran ${seconds(t.duration_s)}`
        + (t.ranks ? ` on ${t.ranks} rank(s)` : "")),
      ["queued", "running"].includes(t.state) ? el("button", { type: "button", class: "danger", onclick: async () => {
        try { await api(`/api/tasks/${t.id}`, { method: "DELETE" }); } catch (err) { submitMsg.textContent = err.message; }
      } }, "Cancel") : null,
      el("h3", {}, "Transitions"),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "state"), el("th", {}, "at"), el("th", {}, "after"))),
        el("tbody", {}, ...(t.transitions || []).map((tr, i, all) => el("tr", {},
          el("td", {}, tr.state), el("td", {}, when(tr.at)),
          el("td", {}, i ? seconds(tr.at - all[i - 1].at) : "–"))))),
    ];
    if (t.phases && Object.keys(t.phases).length) {
      parts.push(el("h3", {}, "Per-phase timings (slowest rank)"),
        el("table", { id: "phases" }, el("thead", {}, el("tr", {}, el("th", {}, "phase"), el("th", {}, "time"),
          el("th", { class: "hide-narrow" }, "per rank"))),
          el("tbody", {}, ...Object.entries(t.phases).map(([name, per]) => el("tr", {},
            el("td", {}, name), el("td", {}, seconds(Math.max(...per))),
            el("td", { class: "hide-narrow mono" }, per.map((s) => seconds(s)).join(", ")))))));
    }
    parts.push(el("details", {}, el("summary", {}, "Spec"), el("pre", { class: "mono values" }, JSON.stringify(t.spec, null, 1))));
    details.replaceChildren(...parts.filter(Boolean));
    try {
      const view = await resultView(t);
      if (view) details.append(view);
    } catch (err) {
      details.append(el("p", { class: "error-text" }, `Result: ${err.message}`));
    }
  }

  main.append(el("h1", {}, "Task Manager"), submitMsg,
    el("div", { class: "grid" }, sortForm, reduceForm, renderForm),
    el("div", { class: "grid" },
      el("section", { class: "panel", "aria-labelledby": "list-h" }, el("h2", { id: "list-h" }, "Tasks"),
        el("div", { class: "row" }, el("label", {}, "State", stateSel), el("label", {}, "Kind", kindSel),
          el("label", {}, "Search", search), el("label", {}, "Submitted within", since)),
        el("div", { class: "table-wrap" }, el("table", {},
          el("thead", {}, el("tr", {}, el("th", {}, "id"), el("th", {}, "kind"), el("th", {}, "state"),
            el("th", { class: "hide-narrow" }, "submitted"), el("th", {}, "ran"))), rows)),
        el("div", { class: "row" }, prev, next, pageInfo)),
      details));

  // Server-sent events drive the updates; the interval is the fallback if the stream drops.
  let pending = null;
  ctx.onTask((event) => {
    clearTimeout(pending);
    pending = setTimeout(refreshList, 150);
    if (event.id === selectedId) showDetails();
  });
  ctx.cleanup(() => clearTimeout(pending));
  ctx.every(() => { refreshList(); showDetails(); });
}
