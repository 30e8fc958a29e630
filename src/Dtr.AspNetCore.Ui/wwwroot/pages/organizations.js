// The organizations page: every organization, a page at a time, and a form that creates one (administrators only).

import { h, replace } from '../dom.js';
import { dataTable, emptyState, form, loadInto, loadMoreButton, pageHeader, textField, toast } from '../components.js';
import { formatTime } from '../format.js';

export default async function render(view) {
  view.setTitle('Organizations');
  const isAdmin = Boolean(view.session?.isAdmin);
  const formSlot = h('div', {});
  const list = h('div', {});

  const newButton = isAdmin
    ? h('button', { type: 'button', class: 'button primary', 'aria-expanded': 'false', onClick: toggleForm }, 'New organization')
    : null;

  function toggleForm() {
    if (formSlot.firstChild) {
      closeForm();
      return;
    }
    const name = textField('Name', {
      name: 'name', required: true, autocomplete: 'off',
      hint: 'Lowercase letters and digits, optionally joined by ".", "_" or "-"; at most 64 characters.',
    });
    const createForm = form({
      label: 'New organization',
      fields: [name.field],
      submitLabel: 'Create organization',
      busyLabel: 'Creating…',
      extraButtons: [h('button', { type: 'button', class: 'button', onClick: closeForm }, 'Cancel')],
      onSubmit: async () => {
        const created = await view.api.post('/organizations', { name: name.input.value.trim() });
        toast(`Created organization ${created.name}.`);
        closeForm();
        await loadList();
      },
    });
    replace(formSlot, h('section', { class: 'card', 'aria-label': 'New organization' }, createForm));
    newButton.setAttribute('aria-expanded', 'true');
    name.input.focus();
  }

  function closeForm() {
    replace(formSlot);
    newButton?.setAttribute('aria-expanded', 'false');
    newButton?.focus();
  }

  function table(organizations) {
    return dataTable({
      caption: 'Organizations',
      rowKey: (row) => row.name,
      rows: organizations,
      columns: [
        { label: 'Name', render: (row) => h('a', { href: `organizations/${encodeURIComponent(row.name)}` }, row.name) },
        { label: 'Created', render: (row) => formatTime(row.createdAt) },
      ],
    });
  }

  async function loadList() {
    await loadInto(list, () => view.api.getPage('/organizations'), (page) => {
      const organizations = page.data.organizations;
      if (organizations.length === 0) {
        return emptyState(isAdmin ? 'No organizations yet. Create one with New organization.' : 'No organizations yet.');
      }
      let next = page.next;
      const wrapper = h('div', {}, table(organizations));
      const tbody = wrapper.querySelector('tbody');
      if (next) {
        wrapper.append(loadMoreButton(async () => {
          const more = await view.api.getPage(next);
          next = more.next;
          tbody.append(...table(more.data.organizations).querySelectorAll('tbody tr'));
          return Boolean(next);
        }));
      }
      return wrapper;
    });
  }

  replace(view.main,
    pageHeader('Organizations', { actions: newButton ? [newButton] : [] }),
    formSlot,
    list);
  await loadList();
}
