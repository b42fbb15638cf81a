import type { JSONValue } from "convex/values";
import type { FunctionEntry, RunOutcome } from "../admin-client.js";
import { formatDuration } from "../display-format.js";
import { h, setChildren } from "../element-builder.js";
import { createRunAsPicker } from "../run-as-picker.js";
import { argsTemplate, validatorText } from "../validator-text.js";
import { renderValue } from "../value-view.js";
import { errorText, type ViewFactory } from "../view.js";

const KIND_LETTER: Record<FunctionEntry["kind"], string> = { query: "Q", mutation: "M", action: "A" };

/**
 * Functions: every query, mutation and action (internal ones too, since the
 * admin key may call them), run with JSON arguments, optionally as a user;
 * the result or error and the log lines show below.
 * Route: `#/functions/<module:function>`.
 */
export const functionsView: ViewFactory = (context, initial) => {
  const { api } = context;
  let functions: FunctionEntry[] = [];
  let current: FunctionEntry | null = null;
  let wanted: string | null = initial[0] ?? null;
  let running = false;
  // Arguments typed for each function survive switching between functions.
  const argsByPath = new Map<string, string>();

  const filter = h("input", {
    class: "input",
    type: "search",
    placeholder: "Filter functions…",
    "aria-label": "Filter functions",
    "data-shortcut": "search",
    onInput: () => renderList(),
  });
  const list = h("nav", { class: "fn-list", "aria-label": "Functions" });
  const picker = createRunAsPicker(api, (message) => context.notify(message, "error"));
  const heading = h("div", { class: "runner-heading" });
  const signature = h("div", { class: "signature" });
  const args = h("textarea", {
    id: "fn-args",
    class: "input code",
    rows: 3,
    spellcheck: "false",
    autocomplete: "off",
    onInput: () => {
      if (current !== null) argsByPath.set(current.path, args.value);
      fitArgs();
    },
    onKeydown: (event: KeyboardEvent) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void run();
      }
    },
  });
  const argsError = h("p", { class: "form-error", role: "alert" });
  const runButton = h("button", { class: "button primary", type: "button", onClick: () => void run() }, "Run");
  const result = h("div", { class: "result", "aria-live": "polite" });
  const runner = h(
    "section",
    { class: "runner", hidden: true },
    heading,
    signature,
    h("label", { class: "field-label", for: "fn-args" }, "Arguments (JSON)"),
    args,
    argsError,
    picker.element,
    h("div", { class: "run-bar" }, runButton, h("span", { class: "hint" }, h("kbd", null, "Ctrl"), "+", h("kbd", null, "Enter"))),
    result,
  );
  const empty = h("section", { class: "runner-empty" }, h("p", null, "Pick a function on the left to run it."));
  const element = h(
    "div",
    { class: "view functions-view" },
    h("aside", { class: "fn-sidebar" }, h("h1", { class: "fn-title" }, "Functions"), filter, list),
    h("div", { class: "runner-pane" }, empty, runner),
  );

  function renderList(): void {
    const needle = filter.value.trim().toLowerCase();
    const shown = functions.filter((f) => f.path.toLowerCase().includes(needle));
    const modules = new Map<string, FunctionEntry[]>();
    for (const fn of shown) {
      const module = fn.path.slice(0, fn.path.indexOf(":"));
      modules.set(module, [...(modules.get(module) ?? []), fn]);
    }
    setChildren(
      list,
      shown.length === 0 ? h("p", { class: "muted small" }, functions.length === 0 ? "Loading…" : "No function matches.") : null,
      [...modules].map(([module, fns]) =>
        h(
          "div",
          { class: "fn-group" },
          h("h2", { class: "list-heading" }, module),
          fns.map((fn) =>
            h(
              "a",
              {
                class: "fn-link",
                href: `#/functions/${encodeURIComponent(fn.path)}`,
                "aria-current": fn === current ? "page" : null,
                title: `${fn.visibility} ${fn.kind}`,
              },
              h("span", { class: `kind kind-${fn.kind}`, "aria-label": fn.kind }, KIND_LETTER[fn.kind]),
              h("span", { class: "fn-name" }, fn.path.slice(fn.path.indexOf(":") + 1)),
              fn.visibility === "internal" ? h("span", { class: "tag" }, "internal") : null,
            ),
          ),
        ),
      ),
    );
  }

  function choose(path: string | null): void {
    wanted = path;
    const fn = functions.find((f) => f.path === path) ?? null;
    if (fn === current) return;
    current = fn;
    renderList();
    runner.hidden = fn === null;
    empty.hidden = fn !== null;
    if (fn === null) {
      if (path !== null && functions.length > 0) context.notify(`No function ${path}.`, "error");
      return;
    }
    setChildren(
      heading,
      h("h1", { class: "mono" }, fn.path),
      h("span", { class: `badge kind-${fn.kind}` }, fn.kind),
      fn.visibility === "internal" ? h("span", { class: "badge" }, "internal") : null,
    );
    setChildren(
      signature,
      h("span", { class: "sig-label" }, "args"),
      h("code", null, fn.args === null ? "any" : validatorText(fn.args)),
      fn.returns !== null ? [h("span", { class: "sig-label" }, "returns"), h("code", null, validatorText(fn.returns))] : null,
    );
    args.value = argsByPath.get(fn.path) ?? argsTemplate(fn.args);
    fitArgs();
    setChildren(argsError);
    setChildren(result);
    setChildren(runButton, `Run ${fn.kind}`);
  }

  /** Grows the arguments box with its text (3 to 16 lines); beyond that it scrolls. */
  function fitArgs(): void {
    args.rows = Math.min(Math.max(args.value.split("\n").length, 3), 16);
  }

  async function run(): Promise<void> {
    if (current === null || running) return;
    let parsed: JSONValue;
    try {
      parsed = args.value.trim() === "" ? {} : (JSON.parse(args.value) as JSONValue);
    } catch (e) {
      setChildren(argsError, `The arguments are not valid JSON: ${errorText(e)}`);
      args.focus();
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      setChildren(argsError, "The arguments must be a JSON object, like {\"id\": \"…\"}.");
      return;
    }
    const identity = picker.identity();
    if (identity !== null && "error" in identity) {
      setChildren(argsError, identity.error);
      return;
    }
    setChildren(argsError);
    const fn = current;
    const who = picker.describe();
    running = true;
    runButton.disabled = true;
    setChildren(result, h("p", { class: "muted" }, "Running…"));
    try {
      const outcome = await api.run(fn.functionPath, parsed, identity, fn.component);
      if (current === fn) setChildren(result, renderOutcome(outcome, who));
    } catch (e) {
      if (current === fn) setChildren(result, h("div", { class: "result-head" }, h("span", { class: "badge error" }, "Refused"), h("span", null, errorText(e))));
    } finally {
      running = false;
      runButton.disabled = false;
    }
  }

  void api
    .functions()
    .then((loaded) => {
      functions = loaded;
      const path = wanted;
      current = null;
      renderList();
      choose(path);
    })
    .catch((e: unknown) => context.notify(errorText(e), "error"));
  renderList();

  return {
    element,
    update: (params) => choose(params[0] ?? null),
    onKey(event) {
      if (event.key === "Enter" && current !== null) {
        args.focus();
        return true;
      }
      return false;
    },
  };
};

function renderOutcome(outcome: RunOutcome, who: string): HTMLElement {
  const head = h(
    "div",
    { class: "result-head" },
    outcome.status === "success" ? h("span", { class: "badge success" }, "Success") : h("span", { class: "badge error" }, "Error"),
    h("span", { class: "muted" }, `${formatDuration(outcome.durationMs)} · ran ${who}`),
  );
  const body =
    outcome.status === "success"
      ? [h("h3", { class: "section-label" }, "Result"), renderValue(outcome.value)]
      : [
          h("pre", { class: "error-text" }, outcome.errorMessage),
          outcome.errorData !== undefined ? [h("h3", { class: "section-label" }, "Error data"), renderValue(outcome.errorData)] : null,
        ];
  const logs =
    outcome.logLines.length === 0
      ? h("p", { class: "muted small" }, "No log lines.")
      : h("pre", { class: "log-lines" }, outcome.logLines.join("\n"));
  return h("div", { class: `result-card ${outcome.status}` }, head, body, h("h3", { class: "section-label" }, "Logs"), logs);
}
