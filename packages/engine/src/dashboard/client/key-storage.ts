/**
 * Where the admin key is kept in the browser: sessionStorage (gone when the
 * tab closes) unless the user asks to be remembered, then localStorage. The
 * key only ever leaves the browser in an `Authorization` header.
 */
const STORAGE_KEY = "convex-local-dashboard.adminKey";

/** The saved admin key, or null. */
export function loadAdminKey(): string | null {
  return read(sessionStorage) ?? read(localStorage);
}

/** Saves the key for this tab, or for this browser when `remember` is set. */
export function saveAdminKey(key: string, remember: boolean): void {
  forgetAdminKey();
  (remember ? localStorage : sessionStorage).setItem(STORAGE_KEY, key);
}

/** Removes the key from both stores. */
export function forgetAdminKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  localStorage.removeItem(STORAGE_KEY);
}

function read(storage: Storage): string | null {
  try {
    return storage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}
