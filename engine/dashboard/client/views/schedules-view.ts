import type { ConvexDocument } from "../admin-client.js";
import { createDataGrid } from "../data-grid.js";
import { formatCount, formatRelative, formatTimestamp } from "../display-format.js";
import { createDocumentPanel, placeholderPanel } from "../document-panel.js";
import { h, setChildren } from "../element-builder.js";
import { createPageControls } from "../page-controls.js";
import { renderCompact } from "../value-view.js";
import { listKeys, tablePane } from "../table-pane.js";
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
      { title: "Function", className: "mono", cell: (job) => String(job.name) },
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
      setChildren(subtitle, `${formatCount(page.total)} ${page.total === 1 ? "job" : "jobs"}`);
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
      if (openId === id) setChildren(panelSlot, createDocumentPanel({ title: "Scheduled function", id, document, onClose: close, notify: context.notify }));
    } catch (e) {
      if (openId === id) setChildren(panelSlot, placeholderPanel(errorText(e), close));
    }
  }

  void loadPage();
  if (initial[0] !== undefined) void showJob(initial[0]);
  return {
    element,
    update: (params) => void showJob(params[0] ?? null),
    refresh: () => void loadPage(),
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
