/** File extensions for stored files in an export (informational; import ignores them). */
const EXTENSIONS: Record<string, string> = {
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "image/avif": ".avif",
  "image/heic": ".heic",
  "image/svg+xml": ".svg",
  "video/mp4": ".mp4",
  "application/pdf": ".pdf",
  "application/json": ".json",
  "text/plain": ".txt",
};

/** The extension for a content type, or "" when unknown. */
export function extensionFor(contentType: string | null): string {
  if (contentType === null) return "";
  return EXTENSIONS[contentType.split(";")[0]!.trim().toLowerCase()] ?? "";
}
