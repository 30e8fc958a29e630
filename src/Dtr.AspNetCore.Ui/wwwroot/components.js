// Building blocks of the pages: states, forms, tables, tabs, dialogs and notifications. They set the labels, roles
// and focus that keyboard and screen reader users need, so the pages get them by using these.

import { h, replace, uniqueId } from './dom.js';
import { ApiError } from './api.js';
import { severities, severityLabel } from './format.js';

/** Creates a loading indicator that screen readers announce. */
export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/** Describes an error for a person: the API's message, or a general one. */
export function errorMessage(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) {
      return error.problem.detail || 'You do not have permission to do this.';
    }
    return error.message;
  }
  return error?.message || 'Something went wrong.';
}

/** Creates an error box with the message and, when `retry` is given, a Retry button. */
export function errorState(error, retry) {
  return h('div', { class: 'error-state', role: 'alert' },
    h('p', {}, errorMessage(error)),
    retry ? h('button', { type: 'button', class: 'button', onClick: retry }, 'Retry') : null);
}

/** Creates the note shown for a list with nothing in it. */
export function emptyState(text) {
  return h('p', { class: 'empty-state' }, text);
}

/**
 * Shows `loading()` in `container`, awaits `load()`, then renders its result with `render(result)`; on failure it
 * shows `errorState` with a Retry button that starts over. Returns the result, or undefined on failure.
 */
export async function loadInto(container, load, render) {
  replace(container, loading());
  try {
    const result = await load();
    replace(container, render(result));
    return result;
  } catch (error) {
    replace(container, errorState(error, () => loadInto(container, load, render)));
    return undefined;
  }
}

/** Creates the page heading (focused after navigation), with optional breadcrumbs above and actions beside it. */
export function pageHeader(title, { breadcrumbs = [], actions = [] } = {}) {
  return h('div', { class: 'page-header' },
    breadcrumbs.length
      ? h('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumbs' },
        h('ol', {}, breadcrumbs.map(([label, href]) => h('li', {}, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label)))))
      : null,
    h('div', { class: 'page-title' }, h('h1', { tabIndex: -1 }, title), actions.length ? h('div', { class: 'actions' }, actions) : null));
}

/** Creates a labelled text input. Returns `{ field, input }`, where `field` is the wrapper to place in a form. */
export function textField(label, { name, type = 'text', value = '', required = false, hint, autocomplete, placeholder, pattern, min, max, multiline = false } = {}) {
  const id = uniqueId(name ?? 'text');
  const hintId = hint ? `${id}-hint` : null;
  const input = multiline
    ? h('textarea', { id, name, required, rows: 3, 'aria-describedby': hintId, value })
    : h('input', { id, name, type, required, autocomplete, placeholder, pattern, min, max, 'aria-describedby': hintId, value });
  const field = h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  return { field, input };
}

/** Creates a labelled checkbox. Returns `{ field, input }`. */
export function checkboxField(label, { name, checked = false, hint } = {}) {
  const id = uniqueId(name ?? 'check');
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', { id, name, type: 'checkbox', checked, 'aria-describedby': hintId });
  const field = h('div', { class: 'field checkbox', 'data-field': name },
    input, h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  return { field, input };
}

/** Creates a labelled select from `[value, label]` pairs. Returns `{ field, input }`. */
export function selectField(label, { name, options, value, hint } = {}) {
  const id = uniqueId(name ?? 'select');
  const hintId = hint ? `${id}-hint` : null;
  const input = h('select', { id, name, 'aria-describedby': hintId },
    options.map(([optionValue, optionLabel]) => h('option', { value: optionValue, selected: optionValue === value }, optionLabel)));
  const field = h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  return { field, input };
}

/**
 * Creates a form whose submit handler runs `onSubmit(form)`. While it runs, the submit button is disabled and shows
 * `busyLabel`. An error from it is shown in an alert above the buttons, validation messages beside their fields
 * (matched by the fields' `name`), and focus moves to the alert. Returns the form element.
 */
export function form({ label, fields, submitLabel, busyLabel = 'Saving…', onSubmit, extraButtons = [] }) {
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, submitLabel);
  const element = h('form', { 'aria-label': label, novalidate: false }, fields, status, h('div', { class: 'form-actions' }, submit, extraButtons));
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(element);
    replace(status);
    submit.disabled = true;
    submit.textContent = busyLabel;
    try {
      await onSubmit(element);
    } catch (error) {
      showFormError(element, status, error);
    } finally {
      submit.disabled = false;
      submit.textContent = submitLabel;
    }
  });
  return element;
}

function clearFieldErrors(formElement) {
  for (const message of formElement.querySelectorAll('.field-error')) {
    message.remove();
  }
  for (const input of formElement.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
  }
}

function showFormError(formElement, status, error) {
  const alert = h('div', { class: 'error-state', role: 'alert', tabIndex: -1 }, h('p', {}, errorMessage(error)));
  replace(status, alert);
  if (error instanceof ApiError) {
    for (const [name, messages] of Object.entries(error.fieldErrors)) {
      const field = formElement.querySelector(`[data-field="${CSS.escape(name)}"]`);
      const input = field?.querySelector('input, select, textarea');
      if (!field || !input) {
        continue;
      }
      const id = uniqueId('error');
      field.append(h('p', { class: 'field-error', id }, [].concat(messages).join(' ')));
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    }
  }
  alert.focus();
}

/**
 * Creates a table with a caption (visually hidden unless `showCaption`). `columns` are `{ label, render(row) }` with
 * an optional `class`, and `render` returns a node or text.
 */
export function dataTable({ caption, columns, rows, showCaption = false, rowKey }) {
  // The wrapper scrolls a wide table on a narrow window, so it is focusable for keyboard scrolling and named for screen readers.
  return h('div', { class: 'table-wrap', tabIndex: 0, role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', { class: showCaption ? '' : 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col', class: column.class }, column.label)))),
      h('tbody', {}, rows.map((row) => h('tr', { 'data-key': rowKey ? rowKey(row) : null },
        columns.map((column, index) => index === 0
          ? h('th', { scope: 'row', class: column.class }, column.render(row))
          : h('td', { class: column.class }, column.render(row))))))));
}

/**
 * Tabs that follow the WAI-ARIA tabs pattern (arrow keys move between tabs). `tabs` are `{ id, label }`;
 * `onSelect(id, panel)` renders the selected tab into its panel. Returns `{ element, select(id) }`.
 */
export function tabs({ label, tabs: items, selected, onSelect }) {
  const baseId = uniqueId('tabs');
  const list = h('div', { role: 'tablist', 'aria-label': label, class: 'tablist' });
  const panel = h('div', { role: 'tabpanel', class: 'tabpanel', tabIndex: 0 });
  const buttons = items.map((item) => h('button', {
    type: 'button', role: 'tab', id: `${baseId}-${item.id}`, 'aria-controls': `${baseId}-panel`, 'data-tab': item.id,
    onClick: () => select(item.id, true),
  }, item.label));
  panel.id = `${baseId}-panel`;
  list.append(...buttons);
  list.addEventListener('keydown', (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) {
      return;
    }
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: buttons.length - 1 - index };
    if (event.key in moves) {
      event.preventDefault();
      const next = buttons[(index + moves[event.key] + buttons.length) % buttons.length];
      next.focus();
      select(next.dataset.tab, true);
    }
  });

  function select(id, fromUser = false) {
    for (const button of buttons) {
      const isSelected = button.dataset.tab === id;
      button.setAttribute('aria-selected', String(isSelected));
      button.tabIndex = isSelected ? 0 : -1;
      if (isSelected) {
        panel.setAttribute('aria-labelledby', button.id);
      }
    }
    onSelect(id, panel, fromUser);
  }

  select(selected ?? items[0].id);
  return { element: h('div', { class: 'tabs' }, list, panel), select };
}

/**
 * Asks for confirmation in a modal dialog. Resolves true when the person confirms. `danger` styles the confirm
 * button as destructive.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const titleId = uniqueId('dialog-title');
    const messageId = uniqueId('dialog-message');
    const cancel = h('button', { type: 'button', class: 'button' }, cancelLabel);
    const confirm = h('button', { type: 'button', class: danger ? 'button danger' : 'button primary' }, confirmLabel);
    const dialog = h('dialog', { 'aria-labelledby': titleId, 'aria-describedby': messageId, class: 'dialog' },
      h('h2', { id: titleId }, title),
      h('div', { id: messageId }, [].concat(message).map((line) => (line instanceof Node ? line : h('p', {}, line)))),
      h('div', { class: 'form-actions' }, confirm, cancel));
    const previous = document.activeElement;
    function close(result) {
      dialog.close();
      dialog.remove();
      previous?.focus?.();
      resolve(result);
    }
    cancel.addEventListener('click', () => close(false));
    confirm.addEventListener('click', () => close(true));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Shows a short notification in the page's live region for a few seconds. */
export function toast(message, { kind = 'success' } = {}) {
  const region = document.getElementById('toasts');
  const item = h('div', { class: `toast ${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** Creates a button that copies `text` to the clipboard and confirms it in a notification. */
export function copyButton(text, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'button small' }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied to the clipboard.');
    } catch {
      toast('Copying failed: select the text and copy it yourself.', { kind: 'error' });
    }
  });
  return button;
}

/** Vulnerability counts by severity as a list of badges; `summary` has lower-case severity names as keys. */
export function severityCounts(summary) {
  if (!summary) {
    return h('span', { class: 'muted' }, 'Not scanned');
  }
  return h('ul', { class: 'severity-counts', 'aria-label': 'Vulnerabilities by severity' },
    severities.map((severity) => h('li', { class: `severity ${severity}${summary[severity] ? '' : ' zero'}` },
      h('span', { class: 'count' }, String(summary[severity] ?? 0)), ' ', severityLabel(severity))));
}

/** A "Load more" button for paged lists; `loadNext()` appends the next page and returns whether more remain. */
export function loadMoreButton(loadNext) {
  const button = h('button', { type: 'button', class: 'button' }, 'Load more');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Loading…';
    try {
      const more = await loadNext();
      if (!more) {
        button.remove();
      }
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
    } finally {
      button.disabled = false;
      button.textContent = 'Load more';
    }
  });
  return button;
}
