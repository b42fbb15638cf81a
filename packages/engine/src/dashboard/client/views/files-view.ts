import type { FileEntry } from "../admin-client.js";
import { createDataGrid } from "../data-grid.js";
import { formatCount, formatRelative, formatSize, formatTimestamp } from "../display-format.js";
import { createDocumentPanel, placeholderPanel } from "../document-panel.js";
import { h, setChildren } from "../element-builder.js";
import { createPageControls } from "../page-controls.js";
import { listKeys, tablePane } from "../table-pane.js";
import { touches } from "../live-updates.js";
import { errorText, type ViewFactory } from "../view.js";

const PAGE_SIZE = 25;

/**
 * Files: the `_storage` rows, newest first, with a thumbnail for images, and
 * one file in full with a large preview. A row whose bytes are gone from disk
 * says so instead of showing a broken image. Route: `#/files/<storage id>`.
 */
export const filesView: ViewFactory = (context, initial) => {
  const { api } = context;
  let files: FileEntry[] = [];
  let openId: string | null = null;
  let loads = 0;

  const subtitle = h("span", { class: "view-subtitle" });
  const grid = createDataGrid<FileEntry>({
    label: "Stored files",
    rowKey: (f) => f._id,
    onOpen: (f) => context.navigate(`#/files/${encodeURIComponent(f._id)}`),
    emptyText: "No files are stored. Files appear here once a client uploads to a generateUploadUrl URL.",
    columns: [
      { title: "Preview", className: "thumb-cell", cell: (f) => preview(f, "thumb") },
      { title: "Id", className: "mono id-cell", cell: (f) => f._id },
      { title: "Content type", cell: (f) => f.contentType ?? h("span", { class: "muted" }, "unknown") },
      { title: "Size", className: "num", cell: (f) => formatSize(f.size) },
      { title: "Uploaded", cell: (f) => h("span", { title: formatTimestamp(f._creationTime) }, formatRelative(f._creationTime)) },
      { title: "Status", cell: (f) => (f.missing ? h("span", { class: "badge error" }, "file missing") : h("span", { class: "badge success" }, "stored")) },
    ],
  });
  const pager = createPageControls(PAGE_SIZE, () => void loadPage());
  const picker = h("input", { id: "file-upload", type: "file", class: "sr-only", multiple: true, onChange: () => void upload() });
  const { element, panelSlot } = tablePane({
    className: "files-view",
    title: "Files",
    subtitle,
    grid,
    pager,
    onRefresh: () => void loadPage(),
    actions: [picker, h("label", { class: "button primary", for: "file-upload", tabindex: 0, role: "button" }, "Upload files…")],
  });

  /** Stores the picked files, one request each, through the path an action's ctx.storage.store takes. */
  async function upload(): Promise<void> {
    const chosen = [...(picker.files ?? [])];
    picker.value = "";
    let last: string | null = null;
    for (const file of chosen) {
      try {
        last = await api.uploadFile(file);
        context.notify(`Uploaded ${file.name}.`, "success");
      } catch (e) {
        context.notify(`${file.name}: ${errorText(e)}`, "error");
      }
    }
    if (last !== null) context.navigate(`#/files/${encodeURIComponent(last)}`);
  }

  async function remove(id: string): Promise<void> {
    try {
      await api.deleteFile(id);
      context.notify("Deleted the file.", "success");
      context.navigate("#/files");
    } catch (e) {
      context.notify(errorText(e), "error");
    }
  }

  async function loadPage(): Promise<void> {
    const load = ++loads;
    try {
      const page = await api.files({ cursor: pager.cursor, order: "desc", limit: PAGE_SIZE });
      if (load !== loads) return;
      // A file deleted elsewhere closes its panel.
      if (openId !== null && !page.files.some((f) => f._id === openId) && pager.cursor === null && page.files.length < PAGE_SIZE) context.navigate("#/files", true);
      files = page.files;
      setChildren(subtitle, `${formatCount(page.total)} ${page.total === 1 ? "file" : "files"}`);
      grid.setRows(files);
      grid.select(openId);
      pager.loaded(files.length, page.nextCursor, page.total);
    } catch (e) {
      if (load === loads) context.notify(errorText(e), "error");
    }
  }

  async function showFile(id: string | null): Promise<void> {
    openId = id;
    grid.select(id);
    element.classList.toggle("with-panel", id !== null);
    const close = () => context.navigate("#/files");
    if (id === null) {
      setChildren(panelSlot);
      return;
    }
    let entry = files.find((f) => f._id === id);
    if (entry === undefined) {
      setChildren(panelSlot, placeholderPanel("Loading…", close));
      try {
        const { document } = await api.document(id);
        // Off this page: whether the bytes exist shows when the preview loads.
        entry = { _id: id, _creationTime: document._creationTime, sha256: String(document.sha256), size: Number(document.size), contentType: (document.contentType as string | null) ?? null, url: null, missing: false };
      } catch (e) {
        if (openId === id) setChildren(panelSlot, placeholderPanel(errorText(e), close));
        return;
      }
      if (openId !== id) return;
    }
    setChildren(
      panelSlot,
      createDocumentPanel({
        title: "File",
        id,
        document: { _id: entry._id, _creationTime: entry._creationTime, sha256: entry.sha256, size: entry.size, contentType: entry.contentType },
        before: [preview(entry, "large"), fileFacts(entry), deleteControl(id, () => void remove(id))],
        onClose: close,
        notify: context.notify,
      }),
    );
  }

  const unsubscribe = context.live.onTables((tables) => {
    if (touches(tables, "_storage")) void loadPage();
  });
  void loadPage().then(() => {
    if (initial[0] !== undefined) void showFile(initial[0]);
  });
  return {
    element,
    update: (params) => void showFile(params[0] ?? null),
    refresh: () => void loadPage(),
    dispose: unsubscribe,
    onKey: listKeys(() => openId !== null, () => context.navigate("#/files"), grid),
  };
};

/** The file's URL on this page's origin (the engine may print 127.0.0.1 while the browser says localhost). */
function sameOriginUrl(file: FileEntry): string {
  return file.url === null ? `/api/storage/${encodeURIComponent(file._id)}` : new URL(file.url).pathname;
}

/** An image preview, or a tile saying what the file is or that it is missing. */
function preview(file: FileEntry, size: "thumb" | "large"): HTMLElement {
  const missing = () => h("div", { class: `file-tile ${size} missing`, role: "img", "aria-label": "file missing" }, size === "large" ? "File missing: the _storage row exists but its bytes are not on disk." : "✕");
  if (file.missing) return missing();
  if (file.contentType === null || !file.contentType.startsWith("image/")) {
    const kind = (file.contentType?.split("/")[1] ?? "file").split(/[;+]/)[0]!.slice(0, 8);
    return h("div", { class: `file-tile ${size}` }, kind.toUpperCase());
  }
  const frame = h("div", { class: `file-preview ${size}` });
  const img = h("img", {
    src: sameOriginUrl(file),
    alt: size === "large" ? `Preview of ${file._id}` : "",
    loading: "lazy",
    onError: () => frame.replaceWith(missing()),
  });
  frame.append(img);
  return frame;
}

function fileFacts(file: FileEntry): HTMLElement {
  const url = sameOriginUrl(file);
  return h(
    "dl",
    { class: "facts" },
    h("dt", null, "Content type"),
    h("dd", null, file.contentType ?? "unknown"),
    h("dt", null, "Size"),
    h("dd", null, `${formatSize(file.size)} (${formatCount(file.size)} bytes)`),
    h("dt", null, "Uploaded"),
    h("dd", null, `${formatTimestamp(file._creationTime)} (${formatRelative(file._creationTime)})`),
    h("dt", null, "URL"),
    h(
      "dd",
      null,
      h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, "Open the file ↗"),
      " · ",
      h("a", { href: url, download: `${file._id}${extensionOf(file.contentType)}` }, "Download"),
    ),
  );
}

function extensionOf(contentType: string | null): string {
  const sub = contentType?.split("/")[1]?.split(/[;+]/)[0];
  return sub === undefined || sub === "" || sub === "octet-stream" ? "" : `.${sub === "jpeg" ? "jpg" : sub}`;
}

/** "Delete file" and, once pressed, the confirmation: the file and its `_storage` row go, as with ctx.storage.delete. */
function deleteControl(id: string, onDelete: () => void): HTMLElement {
  const slot = h("div", { class: "danger-zone" });
  const ask = () =>
    setChildren(
      slot,
      h("span", { class: "confirm-text" }, "Delete this file? Documents that refer to it keep its id."),
      h("button", { class: "button danger", type: "button", onClick: onDelete }, "Delete"),
      h("button", { class: "button", type: "button", onClick: idle }, "Cancel"),
    );
  const idle = () => setChildren(slot, h("button", { class: "button", type: "button", "aria-label": `Delete file ${id}`, onClick: ask }, "Delete file…"));
  idle();
  return slot;
}
