import { h } from "./element-builder.js";

/**
 * A labelled control: the label names the control through `for`, so its
 * accessible name is exactly `label` (a wrapping label would also take in a
 * select's option texts).
 */
export function formField(label: string, control: HTMLElement, options: { grow?: boolean } = {}): HTMLElement {
  if (control.id === "") throw new Error(`The control labelled "${label}" needs an id.`);
  return h("div", { class: options.grow ? "field grow" : "field" }, h("label", { class: "field-label", for: control.id }, label), control);
}
