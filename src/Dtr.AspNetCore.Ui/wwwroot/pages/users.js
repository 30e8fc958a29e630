// The users page (system administrators): every user a page at a time, buttons that activate, deactivate and
// change the administrator role, and a form that creates a user.

import { h, replace } from '../dom.js';
import {
  checkboxField, confirmDialog, dataTable, emptyState, errorMessage, form, loadInto, loadMoreButton, pageHeader, textField, toast,
} from '../components.js';

export default async function render(view) {
  view.setTitle('Users');
  const formSlot = h('div', {});
  const list = h('div', {});
  const newButton = h('button', { type: 'button', class: 'button primary', 'aria-expanded': 'false', onClick: toggleForm }, 'New user');

  function toggleForm() {
    if (formSlot.firstChild) {
      closeForm();
      return;
    }
    const name = textField('User name', {
      name: 'name', required: true, autocomplete: 'off',
      hint: 'Lowercase letters and digits, optionally joined by ".", "_" or "-"; at most 64 characters.',
    });
    const password = textField('Password', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 8 characters.' });
    const email = textField('Email', { name: 'email', type: 'email', autocomplete: 'off' });
    const fullName = textField('Full name', { name: 'fullName', autocomplete: 'off' });
    const isAdmin = checkboxField('System administrator', {
      name: 'isAdmin',
      hint: 'Administrators manage every user, organization, repository and setting. Creating one needs a password sign-in.',
    });
    const createForm = form({
      label: 'New user',
      fields: [name.field, password.field, email.field, fullName.field, isAdmin.field],
      submitLabel: 'Create user',
      busyLabel: 'Creating…',
      extraButtons: [h('button', { type: 'button', class: 'button', onClick: closeForm }, 'Cancel')],
      onSubmit: async () => {
        const created = await view.api.post('/users', {
          name: name.input.value.trim(),
          password: password.input.value,
          email: email.input.value.trim() || null,
          fullName: fullName.input.value.trim() || null,
          isAdmin: isAdmin.input.checked,
        });
        toast(`Created user ${created.name}.`);
        closeForm();
        await loadList();
      },
    });
    replace(formSlot, h('section', { class: 'card', 'aria-label': 'New user' }, createForm));
    newButton.setAttribute('aria-expanded', 'true');
    name.input.focus();
  }

  function closeForm() {
    replace(formSlot);
    newButton.setAttribute('aria-expanded', 'false');
    newButton.focus();
  }

  function isSelf(user) {
    return user.name === view.session?.userName;
  }

  function actions(user) {
    // Administrators cannot lock themselves out from here: their own row has no deactivate or remove-admin button.
    if (isSelf(user)) {
      return h('span', { class: 'muted' }, 'Your account');
    }
    // Each accessible name starts with the button's visible text, which speech input users say to press it (WCAG 2.5.3).
    return h('div', { class: 'row-actions' },
      user.isActive
        ? h('button', { type: 'button', class: 'button small danger', 'aria-label': `Deactivate ${user.name}`, onClick: () => setActive(user, false) }, 'Deactivate')
        : h('button', { type: 'button', class: 'button small', 'aria-label': `Activate ${user.name}`, onClick: () => setActive(user, true) }, 'Activate'),
      user.isAdmin
        ? h('button', { type: 'button', class: 'button small', 'aria-label': `Remove admin from ${user.name}`, onClick: () => setAdmin(user, false) }, 'Remove admin')
        : h('button', { type: 'button', class: 'button small', 'aria-label': `Make admin: ${user.name}`, onClick: () => setAdmin(user, true) }, 'Make admin'));
  }

  function table(users) {
    return dataTable({
      caption: 'Users',
      rowKey: (user) => user.name,
      rows: users,
      columns: [
        { label: 'User name', render: (user) => [user.name, isSelf(user) ? h('span', { class: 'muted' }, ' (you)') : null] },
        { label: 'Full name', render: (user) => user.fullName ?? '' },
        { label: 'Email', render: (user) => user.email ?? '' },
        { label: 'Role', render: (user) => (user.isAdmin ? 'Admin' : 'User') },
        { label: 'Status', render: (user) => h('span', { class: user.isActive ? 'status-active' : 'status-inactive' }, user.isActive ? 'Active' : 'Inactive') },
        { label: 'Actions', render: actions },
      ],
    });
  }

  /** Draws a user's row again from the API's response to a change, keeping focus on the row's first button. */
  function replaceRow(user) {
    const row = list.querySelector(`tr[data-key="${CSS.escape(user.name)}"]`);
    const fresh = table([user]).querySelector('tbody tr');
    if (row && fresh) {
      row.replaceWith(fresh);
      fresh.querySelector('button')?.focus();
    }
  }

  async function setActive(user, active) {
    if (!active) {
      const confirmed = await confirmDialog({
        title: `Deactivate ${user.name}?`,
        message: [
          `${user.name} can no longer sign in, push or pull, and their browser sessions and access tokens stop working.`,
          'Their repositories, memberships and tokens are kept, and Activate restores access.',
        ],
        confirmLabel: 'Deactivate',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
    }
    await update(user, { isActive: active }, active ? `Activated ${user.name}.` : `Deactivated ${user.name}.`);
  }

  async function setAdmin(user, admin) {
    const confirmed = await confirmDialog({
      title: admin ? `Make ${user.name} an administrator?` : `Remove administrator role from ${user.name}?`,
      message: admin
        ? [`${user.name} will manage every user, organization, repository and setting of this registry.`]
        : [`${user.name} loses administrator rights and keeps the access that their own namespace, organizations and teams give.`],
      confirmLabel: admin ? 'Make admin' : 'Remove admin',
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    await update(user, { isAdmin: admin }, admin ? `${user.name} is now an administrator.` : `${user.name} is no longer an administrator.`);
  }

  async function update(user, change, message) {
    try {
      const updated = await view.api.patch(`/users/${encodeURIComponent(user.name)}`, change);
      replaceRow(updated);
      toast(message);
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
    }
  }

  async function loadList() {
    await loadInto(list, () => view.api.getPage('/users'), (page) => {
      if (page.data.users.length === 0) {
        return emptyState('No users yet.');
      }
      let next = page.next;
      const wrapper = h('div', {}, table(page.data.users));
      const tbody = wrapper.querySelector('tbody');
      if (next) {
        wrapper.append(loadMoreButton(async () => {
          const more = await view.api.getPage(next);
          next = more.next;
          tbody.append(...table(more.data.users).querySelectorAll('tbody tr'));
          return Boolean(next);
        }));
      }
      return wrapper;
    });
  }

  replace(view.main, pageHeader('Users', { actions: [newButton] }), formSlot, list);
  await loadList();
}
