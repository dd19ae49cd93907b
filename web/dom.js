// Small DOM helpers: elements are built with textContent only, so no text from the gateway
// (device names, log lines) is ever parsed as HTML.

const SVG = "http://www.w3.org/2000/svg";

/** h("p", {class: "x"}, "text", child): an element; attributes with null/false are left out. */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  return fill(element, attributes, children);
}

/** s("polyline", {...}): an SVG element. */
export function s(tag, attributes, ...children) {
  return fill(document.createElementNS(SVG, tag), attributes, children);
}

function fill(element, attributes, children) {
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Replaces the children of `container` with `children`, keeping what a person was doing:
 * the element with focus and the open <details>, found again by their data-key.
 */
export function replace(container, children) {
  const focused = document.activeElement?.dataset?.key;
  const open = new Set([...container.querySelectorAll("details[data-key]")].filter((d) => d.open).map((d) => d.dataset.key));
  const closed = new Set([...container.querySelectorAll("details[data-key]")].filter((d) => !d.open).map((d) => d.dataset.key));
  container.replaceChildren(...[children].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  for (const details of container.querySelectorAll("details[data-key]")) {
    if (open.has(details.dataset.key)) details.open = true;
    if (closed.has(details.dataset.key)) details.open = false;
  }
  if (focused) {
    const again = container.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again && document.activeElement !== again) again.focus({ preventScroll: true });
  }
}

/** A two-column table of label → value rows; rows whose value is null are left out. */
export function facts(rows, attributes) {
  return h(
    "dl",
    { class: "facts", ...attributes },
    rows.filter(([, value]) => value !== null && value !== undefined && value !== "").map(([label, value]) =>
      h("div", null, h("dt", null, label), h("dd", null, value))
    )
  );
}

/** A table with a caption, column headers and rows of cells. */
export function table(caption, headers, rows, attributes) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      attributes,
      caption ? h("caption", null, caption) : null,
      h("thead", null, h("tr", null, headers.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", null, rows)
    )
  );
}
