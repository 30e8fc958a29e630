// Form helpers shared by the tabs of the settings page.

import { h, uniqueId } from '../dom.js';
import { ApiError } from '../api.js';

/**
 * Returns a copy of a validation error whose field names are the last part of the API's names ("general.publicBaseUrl"
 * becomes "publicBaseUrl"), so `form` shows each message beside its field, and whose detail lists every message.
 */
export function withFieldNames(error) {
  if (!(error instanceof ApiError) || Object.keys(error.fieldErrors).length === 0) {
    return error;
  }
  const errors = {};
  const messages = [];
  for (const [name, list] of Object.entries(error.fieldErrors)) {
    const field = name.replace(/^\$\.?/, '').split('.').pop().replace(/\[\d+\]$/, '');
    errors[field] = [...(errors[field] ?? []), ...[].concat(list)];
    messages.push(...[].concat(list));
  }
  return new ApiError(error.status, { ...error.problem, detail: error.problem.detail || messages.join(' '), errors });
}

/** Reads a number of minutes from a number input: null when empty, else the number (the API checks its range). */
export function readMinutes(input) {
  const text = input.value.trim();
  return text === '' ? null : Number(text);
}

/** Creates a labelled file input. Returns `{ field, input }`, like the text fields of components.js. */
export function fileField(label, { name, accept, required = false, hint } = {}) {
  const id = uniqueId(name ?? 'file');
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', { id, name, type: 'file', accept, required, 'aria-describedby': hintId });
  const field = h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  return { field, input };
}

/** Creates a labelled list of radio buttons in a fieldset. `options` are `[value, label]` pairs. */
export function radioGroup(legend, { name, options, value, onChange }) {
  const inputs = options.map(([optionValue, optionLabel]) => {
    const id = uniqueId(name);
    const input = h('input', { id, type: 'radio', name, value: optionValue, checked: optionValue === value, onChange });
    return { input, element: h('div', { class: 'radio' }, input, h('label', { for: id }, optionLabel)) };
  });
  const field = h('fieldset', { class: 'field radio-group', 'data-field': name }, h('legend', {}, legend), inputs.map((item) => item.element));
  return {
    field,
    get value() {
      return inputs.find((item) => item.input.checked)?.input.value ?? null;
    },
  };
}
