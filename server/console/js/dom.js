// Building the page: elements from plain values, never from HTML strings (no HTML parsing anywhere,
// so a user's name or a server message can never become markup).

/** An element with attributes (`on…` functions become listeners) and children (text or nodes). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nested arrays flattened; null, undefined and false skipped). */
export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replace an element's children. */
export function clear(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

let counter = 0;
/** A fresh id for labels and radio groups. */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled form field: label above, control, optional hint tied by aria-describedby. */
export function field(label, control, hint) {
  const id = control.id || uid("field");
  control.id = id;
  const hintElement = hint ? h("small", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintElement);
}

/** A checkbox with its label on the right. */
export function checkField(label, control, hint) {
  const id = control.id || uid("check");
  control.id = id;
  const hintElement = hint ? h("small", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field check" }, control, h("label", { for: id }, label), hintElement);
}

/** A <select> of [value, text] pairs. */
export function select(options, attributes = {}) {
  const selected = attributes.value;
  const element = h("select", { ...attributes, value: null });
  for (const [value, text] of options) {
    element.append(h("option", { value, selected: value === selected }, text));
  }
  return element;
}

/** A table with a caption, column headers and rows (arrays of cells). */
export function table(caption, headers, rows, attributes = {}) {
  return h(
    "table",
    attributes,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h(
      "tbody",
      {},
      rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell)))),
    ),
  );
}
