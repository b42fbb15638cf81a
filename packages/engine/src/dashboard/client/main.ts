import { AdminApiError, createAdminClient } from "./admin-client.js";
import { setChildren } from "./element-builder.js";
import { forgetAdminKey, loadAdminKey, saveAdminKey } from "./key-storage.js";
import { createShell, type Shell } from "./shell.js";
import { errorText } from "./view.js";
import { createLoginView } from "./views/login-view.js";

/**
 * The dashboard in the browser: asks for the admin key once (kept in
 * sessionStorage, or localStorage when remembered), then shows the shell.
 * If the engine ever refuses the key, the key is forgotten and asked for again.
 */
const root = document.getElementById("app")!;
let shell: Shell | null = null;

function showLogin(message: string | null = null): void {
  shell?.dispose();
  shell = null;
  setChildren(
    root,
    createLoginView(async (key, remember) => {
      try {
        await createAdminClient(key, () => {}).tables();
      } catch (e) {
        return e instanceof AdminApiError && e.isKeyRefused ? "That admin key is not valid for this deployment." : errorText(e);
      }
      saveAdminKey(key, remember);
      showShell(key);
      return null;
    }, message),
  );
}

function showShell(key: string): void {
  let refused = false;
  const api = createAdminClient(key, () => {
    if (refused) return;
    refused = true;
    forgetAdminKey();
    showLogin("The engine refused the saved admin key (another data folder?). Paste the key it printed.");
  });
  shell = createShell(api, () => {
    forgetAdminKey();
    showLogin();
  });
  setChildren(root, shell.element);
}

const saved = loadAdminKey();
if (saved === null) showLogin();
else showShell(saved);
