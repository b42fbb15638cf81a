/** What may be placed inside an element; falsy values are skipped, arrays flattened. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Attributes, properties (`value`, `checked`) and `on<event>` listeners of a new element. */
export type Attributes = Record<string, string | number | boolean | null | undefined | ((event: never) => void)>;

/** Properties that must be set on the element itself, not as attributes, to take effect. */
const PROPERTIES = new Set(["value", "checked", "disabled"]);

/**
 * Creates an element. Text is always inserted as text nodes, never as HTML,
 * so document values shown on the page cannot inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes?: Attributes | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
    } else if (PROPERTIES.has(name)) {
      (element as unknown as Record<string, unknown>)[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Replaces an element's children. */
export function setChildren(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  append(element, children);
}

function append(element: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}
