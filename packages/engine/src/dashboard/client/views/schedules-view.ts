import type { ConvexDocument } from "../admin-client.js";
import { createDataGrid } from "../data-grid.js";
import { formatCount, formatRelative, formatTimestamp, functionName } from "../display-format.js";
import { createDocumentPanel, placeholderPanel } from "../document-panel.js";
import { h, setChildren } from "../element-builder.js";
import { createPageControls } from "../page-controls.js";
import { renderCompact } from "../value-view.js";
import { listKeys, tablePane } from "../table-pane.js";
import { touches } from "../live-updates.js";
import { errorText, type ViewFactory } from "../view.js";

const PAGE_SIZE = 50;
const TABLE = "_scheduled_functions";

type JobState = { kind: "pending" | "inProgress" | "success" | "canceled" } | { kind: "failed"; error: string };

/**
 * Schedules: `_scheduled_functions`, newest first, with when each job runs,
 * its state (and error), and the job in full. Route: `#/schedules/<job id>`.
 */
export const schedulesView: ViewFactory = (context, initial) => {
  const { api } = context;
  let openId: string | null = null;
  let loads = 0;
  const subtitle = h("span", { class: "view-subtitle" });
  const grid = createDataGrid<ConvexDocument>({
    label: "Scheduled functions",
    rowKey: (job) => job._id,
    onOpen: (job) => context.navigate(`#/schedules/${encodeURIComponent(job._id)}`),
    emptyText: "Nothing is scheduled. Jobs appear here when a function calls ctx.scheduler.runAfter or runAt, or a cron fires.",
    columns: [
      { title: "Runs at", className: "nowrap", cell: (job) => timeCell(Number(job.scheduledTime)) },
      { title: "Function", className: "mono", cell: (job) => functionName(String(job.name)) },
      { title: "State", cell: (job) => stateBadge(job.state as JobState) },
      { title: "Completed", className: "nowrap", cell: (job) => (typeof job.completedTime === "number" ? timeCell(job.completedTime) : h("span", { class: "muted" }, "–")) },
      { title: "Arguments", cell: (job) => renderCompact(Array.isArray(job.args) && job.args.length === 1 ? job.args[0]! : (job.args ?? null)) },
    ],
  });
  const pager = createPageControls(PAGE_SIZE, () => void loadPage());
  const { element, panelSlot } = tablePane({
    className: "schedules-view",
    title: "Scheduled functions",
    subtitle,
    grid,
    pager,
    onRefresh: () => void loadPage(),
  });

  async function loadPage(): Promise<void> {
    const load = ++loads;
    try {
      const page = await api.documents(TABLE, { cursor: pager.cursor, order: "desc", limit: PAGE_SIZE });
      if (load !== loads) return;
      const total = page.total ?? page.documents.length;
      setChildren(subtitle, `${formatCount(total)} ${total === 1 ? "job" : "jobs"}`);
      grid.setRows(page.documents);
      grid.select(openId);
      pager.loaded(page.documents.length, page.nextCursor, page.total);
    } catch (e) {
      if (load === loads) context.notify(errorText(e), "error");
    }
  }

  async function showJob(id: string | null): Promise<void> {
    openId = id;
    grid.select(id);
    element.classList.toggle("with-panel", id !== null);
    const close = () => context.navigate("#/schedules");
    if (id === null) {
      setChildren(panelSlot);
      return;
    }
    setChildren(panelSlot, placeholderPanel("Loading…", close));
    try {
      const { document } = await api.document(id);
      if (openId !== id) return;
      const state = (document.state as JobState | undefined)?.kind;
      const cancellable = state === "pending" || state === "inProgress";
      const cancel = h("button", { class: "button danger", type: "button", onClick: () => void cancelJob(id, cancel) }, state === "inProgress" ? "Cancel (running)" : "Cancel job");
      setChildren(
        panelSlot,
        createDocumentPanel({
          title: "Scheduled function",
          id,
          document,
          onClose: close,
          notify: context.notify,
          before: [h("p", { class: "job-summary" }, stateBadge(document.state as JobState), " ", h("code", null, functionName(String(document.name))), cancellable ? [" ", cancel] : null)],
        }),
      );
    } catch (e) {
      if (openId === id) setChildren(panelSlot, placeholderPanel(errorText(e), close));
    }
  }

  async function cancelJob(id: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const state = await context.api.cancelJob(id);
      context.notify(state === "canceled" ? "Canceled the job." : `The job had already finished (${state}).`, "success");
      await showJob(id);
    } catch (e) {
      button.disabled = false;
      context.notify(errorText(e), "error");
    }
  }

  // Jobs change state as they run; the list and the open job follow.
  const unsubscribe = context.live.onTables((tables) => {
    if (!touches(tables, TABLE)) return;
    void loadPage();
    if (openId !== null) void showJob(openId);
  });
  void loadPage();
  if (initial[0] !== undefined) void showJob(initial[0]);
  return {
    element,
    update: (params) => void showJob(params[0] ?? null),
    refresh: () => void loadPage(),
    dispose: unsubscribe,
    onKey: listKeys(() => openId !== null, () => context.navigate("#/schedules"), grid),
  };
};

function timeCell(ms: number) {
  return h("span", { title: formatTimestamp(ms) }, `${formatTimestamp(ms)} `, h("span", { class: "muted" }, `(${formatRelative(ms)})`));
}

const STATE_TONE: Record<JobState["kind"], string> = { pending: "info", inProgress: "warn", success: "success", failed: "error", canceled: "neutral" };
const STATE_TEXT: Record<JobState["kind"], string> = { pending: "pending", inProgress: "running", success: "success", failed: "failed", canceled: "canceled" };

function stateBadge(state: JobState | undefined) {
  if (state === undefined || !(state.kind in STATE_TONE)) return h("span", { class: "badge" }, "unknown");
  return h("span", { class: `badge ${STATE_TONE[state.kind]}`, title: state.kind === "failed" ? state.error : null }, STATE_TEXT[state.kind]);
}
