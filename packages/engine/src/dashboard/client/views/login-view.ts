import { h, setChildren } from "../element-builder.js";

/** How the login screen reports a submitted key: null when accepted, else why not. */
export type SubmitKey = (key: string, remember: boolean) => Promise<string | null>;

/** The screen that asks for the admin key once; `message` explains why it is asked again. */
export function createLoginView(submit: SubmitKey, message: string | null): HTMLElement {
  const input = h("input", {
    id: "admin-key",
    class: "input mono",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    placeholder: "local|…",
  });
  const remember = h("input", { id: "remember-key", type: "checkbox" });
  const error = h("p", { class: "form-error", role: "alert" }, message ?? "");
  const button = h("button", { class: "button primary wide", type: "submit" }, "Sign in");
  const form = h(
    "form",
    {
      class: "login-card",
      onSubmit: async (event: SubmitEvent) => {
        event.preventDefault();
        // Pasting the whole line `start` printed works too.
        const key = input.value.trim().replace(/^admin key:\s*/i, "");
        if (key === "") return;
        button.disabled = true;
        setChildren(button, "Checking…");
        const refusal = await submit(key, remember.checked);
        if (refusal === null) return;
        setChildren(error, refusal);
        button.disabled = false;
        setChildren(button, "Sign in");
        input.select();
      },
    },
    brand(),
    h("h1", null, "Sign in to the dashboard"),
    h(
      "p",
      { class: "lede" },
      "Paste the admin key that ",
      h("code", null, "start"),
      " printed on the line ",
      h("code", null, "admin key: local|…"),
      ". It stays in this browser tab and is sent only to this engine.",
    ),
    h("label", { class: "field-label", for: "admin-key" }, "Admin key"),
    input,
    h("label", { class: "check", for: "remember-key" }, remember, "Remember on this browser"),
    error,
    button,
  );
  queueMicrotask(() => input.focus());
  return h("main", { class: "login" }, form);
}

/** The product mark and name, as on the sidebar. */
export function brand(detail?: string): HTMLElement {
  return h(
    "div",
    { class: "brand" },
    h("span", { class: "brand-mark", "aria-hidden": "true" }),
    h("span", { class: "brand-text" }, h("strong", null, "Convex local"), detail !== undefined ? h("span", { class: "brand-detail" }, detail) : null),
  );
}
