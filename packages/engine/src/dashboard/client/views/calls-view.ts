import type { LoggedCall } from "../admin-client.js";
import { formatClock, formatDuration, formatTimestamp, functionName } from "../display-format.js";
import { h, setChildren } from "../element-builder.js";
import { errorText, type ViewFactory } from "../view.js";

/** Calls kept in the page; the engine keeps as many. */
const KEPT = 1000;

/**
 * Logs: the engine's recent function calls, newest first, with kind, who
 * called (origin and the identity it ran as), status, duration and each
 * call's log lines; filtered by function and status. New calls arrive over
 * the event stream while "Live" is on; only calls not yet seen are fetched.
 */
export const callsView: ViewFactory = (context) => {
  const { api } = context;
  let calls: LoggedCall[] = [];
  let seen = 0;
  let shownSignature = "";
  const expanded = new Set<string>();
  let fetching: Promise<void> | null = null;
  let again = false;
  let disposed = false;

  const live = h("input", { type: "checkbox", checked: true, onChange: () => live.checked && void poll() });
  const filter = h("input", {
    class: "input",
    type: "search",
    placeholder: "Filter by function…",
    "aria-label": "Filter calls by function",
    "data-shortcut": "search",
    list: "call-functions",
    onInput: () => render(true),
  });
  const functionNames = h("datalist", { id: "call-functions" });
  const status = h(
    "select",
    { class: "input", "aria-label": "Filter calls by status", onChange: () => render(true) },
    h("option", { value: "" }, "Any status"),
    h("option", { value: "success" }, "Succeeded"),
    h("option", { value: "error" }, "Failed"),
  );
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
          functionNames,
          status,
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

  function render(force = false): void {
    const needle = filter.value.trim().toLowerCase();
    const shown = calls
      .map((call) => ({ call, key: String(call.seq) }))
      .filter(({ call }) => functionName(call.path).toLowerCase().includes(needle) && (status.value === "" || call.status === status.value))
      .reverse();
    // Re-rendering an unchanged list would only steal focus from an expanded row.
    const signature = `${seen}|${shown.length}|${[...expanded].join(",")}`;
    if (!force && signature === shownSignature) return;
    shownSignature = signature;
    setChildren(subtitle, `${calls.length} recent ${calls.length === 1 ? "call" : "calls"}${shown.length === calls.length ? "" : `, ${shown.length} shown`}`);
    setChildren(functionNames, [...new Set(calls.map((c) => functionName(c.path)))].sort().map((name) => h("option", { value: name })));
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
          h("td", { class: "mono" }, functionName(call.path)),
          h("td", null, h("span", { class: `badge kind-${call.kind}` }, call.kind)),
          h("td", { class: "caller" }, callerCell(call)),
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

  /** Fetches the calls not seen yet; one fetch at a time, and one more if calls came meanwhile. */
  function poll(): Promise<void> {
    if (fetching !== null) {
      again = true;
      return fetching;
    }
    fetching = (async () => {
      do {
        again = false;
        try {
          const fresh = await api.calls(seen);
          if (disposed) return;
          if (fresh.latestSeq < seen) calls = []; // another engine on this page's origin: start over
          calls = [...calls, ...fresh.calls].slice(-KEPT);
          seen = fresh.latestSeq;
          render();
        } catch (e) {
          if (!disposed) context.notify(errorText(e), "error");
        }
      } while (again && !disposed);
      fetching = null;
    })();
    return fetching;
  }

  const unsubscribe = context.live.onCalls(() => {
    if (live.checked) void poll();
  });
  void poll();
  return {
    element,
    refresh: () => void poll(),
    dispose() {
      disposed = true;
      unsubscribe();
    },
  };
};

/** Where the call came from and who it ran as: `client · user_ada (Ada)`, `scheduler`, `admin · as user_ada`. */
function callerCell(call: LoggedCall): HTMLElement {
  const who = call.caller === null ? null : `${call.caller.subject}${call.caller.name ? ` (${call.caller.name})` : ""}`;
  return h(
    "span",
    { title: call.caller === null ? "no identity" : `${call.caller.issuer}|${call.caller.subject}` },
    h("span", { class: "muted" }, call.origin),
    who === null ? (call.origin === "client" || call.origin === "http" ? h("span", { class: "muted" }, " · signed out") : null) : [" · ", h("span", { class: "mono" }, call.origin === "admin" ? `as ${who}` : who)],
  );
}
