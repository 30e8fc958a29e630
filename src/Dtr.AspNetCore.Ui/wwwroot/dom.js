// DOM helpers shared by the pages. Text always goes in through text nodes, never as HTML, so names and messages
// from the registry cannot inject markup.

/**
 * Creates an element. `attributes` sets properties and attributes: `class`, `for`, `aria-*`, `data-*` and boolean
 * attributes as attributes, `on<Event>` functions as listeners, anything else as a property. Children are nodes,
 * strings, numbers, arrays of them, or null/false (skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'for' || name === 'role' || name.startsWith('aria-') || name.startsWith('data-') || value === true) {
      element.setAttribute(name, value === true ? '' : String(value));
    } else {
      element[name] = value;
    }
  }
  append(element, children);
  return element;
}

/** Appends children (nodes, strings, arrays, null) to an element. */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces the children of an element. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

let idCounter = 0;

/** Returns an id that is unique in the document, for label and description links. */
export function uniqueId(prefix = 'field') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
