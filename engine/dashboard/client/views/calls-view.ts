import type { CallRecord } from "../admin-client.js";
import { formatClock, formatDuration, formatTimestamp } from "../display-format.js";
import { h, setChildren } from "../element-builder.js";
import { errorText, type ViewFactory } from "../view.js";

const POLL_MS = 2000;

/**
 * Logs: the engine's recent function calls, newest first, with kind, who
 * called, status, duration and each call's log lines. Polls every two
 * seconds while "Live" is on and the tab is visible.
 */
export const callsView: ViewFactory = (context) => {
  const { api } = context;
  let calls: CallRecord[] = [];
  let shownSignature = "";
  const expanded = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let disposed = false;

  const live = h("input", { type: "checkbox", checked: true, onChange: () => schedule() });
  const filter = h("input", {
    class: "input",
    type: "search",
    placeholder: "Filter by function…",
    "aria-label": "Filter calls by function",
    "data-shortcut": "search",
    onInput: () => render(true),
  });
  const errorsOnly = h("input", { type: "checkbox", onChange: () => render(true) });
  const subtitle = h("span", { class: "view-subtitle" });
  const body = h("tbody");
  const element = h(
    "div",
    { class: "view calls-view" },
    h(
      "section",
      { class: "table-pane" },
      h(
        "header",
        { class: "view-header" },
        h("div", { class: "view-heading" }, h("h1", null, "Logs"), subtitle),
        h(
          "div",
          { class: "view-actions" },
          filter,
          h("label", { class: "check" }, errorsOnly, "Errors only"),
          h("label", { class: "check" }, live, "Live"),
          h("button", { class: "button", type: "button", title: "Reload (r)", onClick: () => void poll() }, "Refresh"),
        ),
      ),
      h(
        "div",
        { class: "grid-scroll" },
        h(
          "table",
          { class: "grid calls", "aria-label": "Recent function calls" },
          h("thead", null, h("tr", null, ["Time", "Function", "Kind", "Caller", "Status", "Duration", "Logs"].map((t) => h("th", { scope: "col", class: t === "Duration" || t === "Logs" ? "num" : null }, t)))),
          body,
        ),
      ),
    ),
  );

  function keyOf(call: CallRecord, index: number): string {
    return `${call.startedAt}|${call.path}|${calls.length - index}`;
  }

  function render(force = false): void {
    const needle = filter.value.trim().toLowerCase();
    const shown = calls
      .map((call, index) => ({ call, key: keyOf(call, index) }))
      .filter(({ call }) => call.path.toLowerCase().includes(needle) && (!errorsOnly.checked || call.status === "error"))
      .reverse();
    // Re-rendering an unchanged list would only steal focus from an expanded row.
    const signature = `${calls.length}|${calls.at(-1)?.startedAt}|${shown.length}|${[...expanded].join(",")}`;
    if (!force && signature === shownSignature) return;
    shownSignature = signature;
    setChildren(subtitle, `${calls.length} recent ${calls.length === 1 ? "call" : "calls"}`);
    if (shown.length === 0) {
      setChildren(body, h("tr", null, h("td", { class: "grid-empty", colspan: 7 }, calls.length === 0 ? "No function has run yet." : "No call matches.")));
      return;
    }
    setChildren(
      body,
      shown.map(({ call, key }) => {
        const open = expanded.has(key);
        const toggle = () => {
          if (open) expanded.delete(key);
          else expanded.add(key);
          render(true);
          body.querySelector<HTMLElement>(`tr[data-key="${CSS.escape(key)}"]`)?.focus();
        };
        const row = h(
          "tr",
          {
            "data-key": key,
            tabindex: 0,
            "aria-expanded": open ? "true" : "false",
            class: call.status === "error" ? "row-error" : null,
            onClick: toggle,
            onKeydown: (event: KeyboardEvent) => {
              if (event.key === "Enter" || event.key === " ") {
                event.preventDefault();
                toggle();
              }
            },
          },
          h("td", { class: "mono nowrap", title: formatTimestamp(call.startedAt) }, formatClock(call.startedAt)),
          h("td", { class: "mono" }, call.path),
          h("td", null, h("span", { class: `badge kind-${call.kind}` }, call.kind)),
          h("td", { class: "muted" }, call.origin),
          h("td", null, h("span", { class: `badge ${call.status}` }, call.status)),
          h("td", { class: "num nowrap" }, formatDuration(call.durationMs)),
          h("td", { class: "num" }, call.logLines.length > 0 ? String(call.logLines.length) : h("span", { class: "muted" }, "–")),
        );
        if (!open) return row;
        const detail = h(
          "tr",
          { class: "detail-row" },
          h(
            "td",
            { colspan: 7 },
            call.error !== undefined ? h("pre", { class: "error-text" }, call.error) : null,
            call.logLines.length > 0 ? h("pre", { class: "log-lines" }, call.logLines.join("\n")) : h("p", { class: "muted small" }, "No log lines."),
          ),
        );
        return [row, detail];
      }),
    );
  }

  async function poll(): Promise<void> {
    try {
      calls = await api.calls();
      if (!disposed) render();
    } catch (e) {
      if (!disposed) context.notify(errorText(e), "error");
    }
    schedule();
  }

  function schedule(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (disposed || !live.checked) return;
    timer = setTimeout(() => {
      if (document.hidden) schedule();
      else void poll();
    }, POLL_MS);
  }

  void poll();
  return {
    element,
    refresh: () => void poll(),
    dispose() {
      disposed = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
};
