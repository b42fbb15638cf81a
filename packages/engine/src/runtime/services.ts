/**
 * Services the runtime is handed (docs/architecture.md): auth identities,
 * the blob store behind `ctx.storage`, and the scheduler's wake-up hook.
 */

/** The `UserIdentity` JSON of convex-interface.md §6.4, or null when signed out. */
export type Identity = { tokenIdentifier: string; subject: string; issuer: string } & Record<string, unknown>;

/** Blob side of file storage; `_storage` rows are written by the runtime in the caller's transaction. */
export interface BlobService {
  /** A fresh single-use upload token (valid for an hour); the writer thread asks the main thread for it. */
  issueUploadToken(): string | Promise<string>;
  /** The public URL that serves a stored file. */
  urlFor(storageId: string): string;
  /** Removes a file's bytes; called only after the deleting transaction committed. */
  deleteBlob(storageId: string): void;
  /** Stores bytes from an action; returns the new `_storage` id (its row is committed by the service). */
  storeBlob(blob: Blob, contentType: string | null, expectedSha256: string | null): Promise<string>;
  /** Reads a file's bytes for an action, or null. */
  readBlob(storageId: string): Promise<Blob | null>;
}

/** Called after a commit that scheduled or cancelled jobs, so the scheduler re-reads its queue. */
export type SchedulerWake = () => void;

/** Where the deployment is reachable; functions see these as CONVEX_CLOUD_URL / CONVEX_SITE_URL. */
export interface DeploymentInfo {
  name: string;
  cloudUrl: string;
  siteUrl: string;
}
