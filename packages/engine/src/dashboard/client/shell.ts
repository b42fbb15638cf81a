import type { AdminClient } from "./admin-client.js";
import { h, setChildren } from "./element-builder.js";
import { callsView } from "./views/calls-view.js";
import { dataView } from "./views/data-view.js";
import { envView } from "./views/env-view.js";
import { filesView } from "./views/files-view.js";
import { functionsView } from "./views/functions-view.js";
import { brand } from "./views/login-view.js";
import { schedulesView } from "./views/schedules-view.js";
import { schemaView } from "./views/schema-view.js";
import { createLiveUpdates } from "./live-updates.js";
import { errorText, type View, type ViewContext, type ViewFactory } from "./view.js";

/** The sections in the sidebar; the digit is the key that opens each. */
const SECTIONS: { id: string; title: string; factory: ViewFactory }[] = [
  { id: "data", title: "Data", factory: dataView },
  { id: "files", title: "Files", factory: filesView },
  { id: "functions", title: "Functions", factory: functionsView },
  { id: "logs", title: "Logs", factory: callsView },
  { id: "schedules", title: "Schedules", factory: schedulesView },
  { id: "env", title: "Environment", factory: envView },
  { id: "schema", title: "Schema", factory: schemaView },
];

/** The signed-in page: sidebar, the current section, messages. */
export interface Shell {
  readonly element: HTMLElement;
  dispose(): void;
}

/**
 * Builds the page and follows the URL's hash (`#/<section>/<params…>`), so
 * every screen has an address, Back works and a reload keeps the place.
 */
export function createShell(api: AdminClient, onSignOut: () => void): Shell {
  const toasts = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
  const main = h("main", { class: "main", id: "main", tabindex: -1 });
  const liveState = h("p", { class: "live-state", "data-state": "connecting", role: "status" }, "Connecting…");
  const live = createLiveUpdates(api, (connected) => {
    liveState.dataset.state = connected ? "live" : "offline";
    setChildren(liveState, connected ? "Live: updates as data changes" : "Offline: reconnecting…");
  });
  const links = SECTIONS.map((s, i) =>
    h("a", { class: "nav-link", href: `#/${s.id}`, "data-section": s.id }, h("span", null, s.title), h("kbd", { "aria-hidden": "true" }, String(i + 1))),
  );
  const element = h(
    "div",
    { class: "shell" },
    h("a", { class: "skip-link", href: "#main", onClick: (e: MouseEvent) => (e.preventDefault(), main.focus()) }, "Skip to content"),
    h(
      "aside",
      { class: "sidebar" },
      brand(location.host),
      h("nav", { class: "nav", "aria-label": "Sections" }, links),
      h(
        "div",
        { class: "sidebar-foot" },
        liveState,
        h(
          "dl",
          { class: "shortcuts", "aria-label": "Keyboard shortcuts" },
          shortcut(`1–${SECTIONS.length}`, "sections"),
          shortcut("/", "search"),
          shortcut("j k", "move"),
          shortcut("Enter", "open"),
          shortcut("Esc", "close"),
          shortcut("r", "refresh"),
        ),
        h("button", { class: "button subtle wide", type: "button", onClick: onSignOut }, "Sign out"),
      ),
    ),
    main,
    toasts,
  );

  const context: ViewContext = {
    api,
    live,
    navigate(hash, replace = false) {
      if (replace) history.replaceState(null, "", hash);
      else history.pushState(null, "", hash);
      route();
    },
    notify(message, tone = "info") {
      const toast = h("div", { class: `toast ${tone}` }, message);
      toasts.append(toast);
      setTimeout(() => toast.remove(), tone === "error" ? 8000 : 3500);
    },
  };

  let section: string | null = null;
  let view: View | null = null;
  let lastHash = "";

  function route(): void {
    const [name = "", ...params] = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(safeDecode);
    if (name === "id" && params[0] !== undefined) {
      void followId(params[0]);
      return;
    }
    const target = SECTIONS.find((s) => s.id === name);
    if (target === undefined) {
      context.navigate("#/data", true);
      return;
    }
    lastHash = location.hash;
    for (const link of links) link.setAttribute("aria-current", link.dataset.section === target.id ? "page" : "false");
    if (section === target.id && view?.update) {
      view.update(params);
      return;
    }
    view?.dispose?.();
    section = target.id;
    view = target.factory(context, params);
    setChildren(main, view.element);
    document.title = `${target.title} · Convex local`;
  }

  /** `#/id/<id>`: finds the id's table and opens the document where it belongs. */
  async function followId(id: string): Promise<void> {
    try {
      const { table } = await api.document(id);
      const where = table === "_storage" ? `#/files/${id}` : table === "_scheduled_functions" ? `#/schedules/${id}` : `#/data/${encodeURIComponent(table)}/${id}`;
      context.navigate(where, true);
    } catch (e) {
      context.notify(errorText(e), "error");
      context.navigate(lastHash || "#/data", true);
    }
  }

  function onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    const target = event.target as HTMLElement;
    const typing = target.closest("input, textarea, select, [contenteditable='true']") !== null;
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (view?.onKey?.(event)) {
      event.preventDefault();
      return;
    }
    const digit = Number(event.key);
    if (Number.isInteger(digit) && digit >= 1 && digit <= SECTIONS.length) {
      event.preventDefault();
      context.navigate(`#/${SECTIONS[digit - 1]!.id}`);
    } else if (event.key === "/") {
      const search = main.querySelector<HTMLInputElement>("[data-shortcut='search']");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (event.key === "r" && view?.refresh) {
      event.preventDefault();
      view.refresh();
    }
  }

  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", onKey);
  route();
  return {
    element,
    dispose() {
      window.removeEventListener("hashchange", route);
      document.removeEventListener("keydown", onKey);
      live.stop();
      view?.dispose?.();
      view = null;
    },
  };
}

function shortcut(keys: string, what: string): HTMLElement[] {
  return [h("dt", null, h("kbd", null, keys)), h("dd", null, what)];
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
