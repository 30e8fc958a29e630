// The signed-in user's own page: account details, personal access tokens and the password.

import { h, replace } from '../dom.js';
import { confirmDialog, copyButton, dataTable, emptyState, errorMessage, form, loadInto, pageHeader, textField, toast } from '../components.js';
import { formatTime } from '../format.js';

export default async function render(view) {
  view.setTitle('My account');
  const userName = view.session?.userName;
  if (!userName) {
    replace(view.main,
      pageHeader('My account'),
      h('p', {}, 'Authentication is off on this registry, so there are no user accounts, passwords or access tokens. Every caller acts as an administrator.'));
    return;
  }

  const userPath = `/users/${encodeURIComponent(userName)}`;
  const details = h('div', {});
  replace(view.main,
    pageHeader('My account'),
    details,
    tokensSection(view, userPath),
    passwordSection(view, userPath));

  await loadInto(details, () => view.api.get(userPath), (user) => h('dl', { class: 'details card' },
    h('dt', {}, 'User name'), h('dd', {}, user.name),
    h('dt', {}, 'Full name'), h('dd', {}, user.fullName || h('span', { class: 'muted' }, 'Not set')),
    h('dt', {}, 'Email'), h('dd', {}, user.email || h('span', { class: 'muted' }, 'Not set')),
    h('dt', {}, 'Role'), h('dd', {}, user.isAdmin ? 'System administrator' : 'User'),
    h('dt', {}, 'Created'), h('dd', {}, formatTime(user.createdAt))));
}

function tokensSection(view, userPath) {
  const list = h('div', {});
  // The new token is shown here once. It is never stored by the page, so it is gone after the next navigation.
  const created = h('div', {});

  // The revoked token's button is gone after the list reloads, so focus moves to this heading.
  const heading = h('h2', { id: 'tokens-heading', tabIndex: -1 }, 'Access tokens');

  function tokenName(token) {
    return token.label || token.id;
  }

  async function loadTokens() {
    await loadInto(list, () => view.api.get(`${userPath}/tokens`), (response) => {
      if (response.tokens.length === 0) {
        return emptyState('You have no access tokens.');
      }
      return dataTable({
        caption: 'Access tokens',
        rowKey: (token) => token.id,
        rows: response.tokens,
        columns: [
          { label: 'Label', render: (token) => token.label || h('span', { class: 'muted' }, `No label (${token.id})`) },
          { label: 'Created', render: (token) => formatTime(token.createdAt) },
          { label: 'Last used', render: (token) => (token.lastUsedAt ? formatTime(token.lastUsedAt) : 'Never') },
          {
            label: 'Actions',
            render: (token) => h('button', {
              type: 'button', class: 'button small danger', 'aria-label': `Revoke token ${tokenName(token)}`,
              onClick: () => revoke(token),
            }, 'Revoke'),
          },
        ],
      });
    });
  }

  async function revoke(token) {
    const confirmed = await confirmDialog({
      title: `Revoke token ${tokenName(token)}?`,
      message: [
        'Clients that use this token can no longer sign in, and browser sessions started with it end.',
        'This cannot be undone.',
      ],
      confirmLabel: 'Revoke',
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    try {
      await view.api.delete(`${userPath}/tokens/${encodeURIComponent(token.id)}`);
      toast(`Revoked token ${tokenName(token)}.`);
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
    }
    await loadTokens();
    heading.focus();
  }

  const label = textField('Token label', {
    name: 'label', autocomplete: 'off',
    hint: 'Optional. A name that tells you where the token is used, such as "CI pipeline".',
  });
  const createForm = form({
    label: 'Create an access token',
    fields: [label.field],
    submitLabel: 'Create token',
    busyLabel: 'Creating…',
    onSubmit: async () => {
      const token = await view.api.post(`${userPath}/tokens`, { label: label.input.value.trim() || null });
      label.input.value = '';
      showCreated(token);
      await loadTokens();
    },
  });

  function showCreated(token) {
    const region = h('div', { class: 'card new-token', role: 'status', tabIndex: -1 },
      h('h3', {}, 'New access token'),
      token.label ? h('p', {}, `Label: ${token.label}`) : null,
      h('p', { class: 'command' }, h('code', { class: 'secret' }, token.token), copyButton(token.token, 'Copy token')),
      h('p', {}, 'Copy it now: it is not shown again. Use it as the password for docker login.'),
      h('button', { type: 'button', class: 'button small', onClick: () => replace(created) }, 'Hide token'));
    replace(created, region);
    region.focus();
  }

  const section = h('section', { 'aria-labelledby': 'tokens-heading' },
    heading,
    h('p', { class: 'muted' }, 'Use an access token in place of your password for docker login and scripts. Creating one needs a sign-in with your password.'),
    created,
    list,
    createForm);
  loadTokens();
  return section;
}

function passwordSection(view, userPath) {
  const password = textField('New password', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 8 characters.' });
  const confirmation = textField('Confirm new password', { name: 'confirmPassword', type: 'password', required: true, autocomplete: 'new-password' });
  const changeForm = form({
    label: 'Change password',
    fields: [password.field, confirmation.field],
    submitLabel: 'Change password',
    busyLabel: 'Changing…',
    onSubmit: async () => {
      if (password.input.value !== confirmation.input.value) {
        confirmation.input.focus();
        throw new Error('The new passwords do not match. Type the same password in both fields.');
      }
      await view.api.patch(userPath, { password: password.input.value });
      toast('Your password was changed. Sign in with the new password.');
      await endSession(view);
    },
  });
  return h('section', { 'aria-labelledby': 'password-heading' },
    h('h2', { id: 'password-heading' }, 'Change password'),
    h('p', { class: 'warning' },
      'Changing your password signs you out of every browser session started with the old password, this one included. ',
      'Access tokens keep working: revoke them above if your password may have leaked.'),
    changeForm);
}

/**
 * Ends this page's session after a password change. The API now rejects the session cookie, so reading the session
 * returns 401 and the shell moves to the sign-in page. If the session still works, the page is drawn again.
 */
async function endSession(view) {
  try {
    await view.api.get('/session');
    view.refresh();
  } catch {
    // The shell handles the 401 by showing the sign-in page.
  }
}
