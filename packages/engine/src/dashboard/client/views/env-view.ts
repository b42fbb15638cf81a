import { h, setChildren } from "../element-builder.js";
import { formField } from "../form-field.js";
import { errorText, type ViewFactory } from "../view.js";

/**
 * Environment variables: `process.env` of the deployment's functions. Values
 * are hidden until asked for (they are often keys). Changing one re-runs
 * live queries on the engine.
 */
export const envView: ViewFactory = (context) => {
  const { api } = context;
  let env: Record<string, string> = {};
  let confirming: string | null = null;

  const name = h("input", { id: "env-name", class: "input mono", type: "text", placeholder: "NAME", spellcheck: "false", autocomplete: "off", required: true, "data-shortcut": "search" });
  const value = h("input", { id: "env-value", class: "input mono grow", type: "text", placeholder: "value", spellcheck: "false", autocomplete: "off" });
  const formError = h("p", { class: "form-error", role: "alert" });
  const reveal = h("input", { type: "checkbox", onChange: () => render() });
  const subtitle = h("span", { class: "view-subtitle" });
  const body = h("tbody");
  const form = h(
    "form",
    {
      class: "env-form",
      onSubmit: (event: SubmitEvent) => {
        event.preventDefault();
        void save(name.value.trim(), value.value);
      },
    },
    formField("Name", name),
    formField("Value", value, { grow: true }),
    h("button", { class: "button primary", type: "submit" }, "Save"),
  );
  const element = h(
    "div",
    { class: "view env-view" },
    h(
      "section",
      { class: "table-pane narrow" },
      h(
        "header",
        { class: "view-header" },
        h("div", { class: "view-heading" }, h("h1", null, "Environment variables"), subtitle),
        h("div", { class: "view-actions" }, h("label", { class: "check" }, reveal, "Show values")),
      ),
      h("p", { class: "lede" }, "Functions read these as ", h("code", null, "process.env"), ". Saving a variable takes effect at once; live queries re-run with the new value."),
      form,
      formError,
      h("div", { class: "grid-scroll" }, h("table", { class: "grid env", "aria-label": "Environment variables" }, h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col", class: "actions-col" }, h("span", { class: "sr-only" }, "Actions")))), body)),
    ),
  );

  function render(): void {
    const names = Object.keys(env).sort();
    setChildren(subtitle, `${names.length} ${names.length === 1 ? "variable" : "variables"}`);
    if (names.length === 0) {
      setChildren(body, h("tr", null, h("td", { class: "grid-empty", colspan: 3 }, "No variables are set.")));
      return;
    }
    setChildren(
      body,
      names.map((n) =>
        h(
          "tr",
          { "data-name": n },
          h("th", { scope: "row", class: "mono" }, n),
          h("td", { class: "mono env-value" }, reveal.checked ? env[n]! : "••••••••"),
          h(
            "td",
            { class: "actions-col" },
            confirming === n
              ? [
                  h("span", { class: "confirm-text" }, `Remove ${n}?`),
                  h("button", { class: "button danger", type: "button", onClick: () => void save(n, null) }, "Remove"),
                  h("button", { class: "button", type: "button", onClick: () => ((confirming = null), render()) }, "Cancel"),
                ]
              : [
                  h("button", { class: "button", type: "button", "aria-label": `Edit ${n}`, onClick: () => edit(n) }, "Edit"),
                  h("button", { class: "button", type: "button", "aria-label": `Remove ${n}`, onClick: () => ((confirming = n), render()) }, "Remove"),
                ],
          ),
        ),
      ),
    );
  }

  function edit(n: string): void {
    name.value = n;
    value.value = env[n] ?? "";
    value.focus();
    value.select();
  }

  async function save(n: string, v: string | null): Promise<void> {
    if (n === "") {
      setChildren(formError, "Give the variable a name.");
      name.focus();
      return;
    }
    try {
      env = await api.setEnv(n, v);
      setChildren(formError);
      confirming = null;
      if (v !== null) {
        name.value = "";
        value.value = "";
      }
      render();
      context.notify(v === null ? `Removed ${n}.` : `Saved ${n}.`, "success");
    } catch (e) {
      setChildren(formError, errorText(e));
    }
  }

  async function load(): Promise<void> {
    try {
      env = await api.env();
      render();
    } catch (e) {
      context.notify(errorText(e), "error");
    }
  }

  void load();
  return { element, refresh: () => void load() };
};
