// The sign-in page: a user name with a password or an access token, or the host's single sign-on.

import { h, replace } from '../dom.js';
import { form, textField } from '../components.js';

/** Returns the page to go to after signing in: a path inside the interface, never another site. */
function safeReturnUrl(query) {
  const target = query.get('returnUrl') ?? '';
  // Digests in image page addresses contain ':', so only a leading scheme such as "https:" is rejected.
  const isPage = /^[a-z0-9]/i.test(target) && !target.includes('//') && !target.includes('\\') && !/^[a-z][a-z0-9+.-]*:/i.test(target);
  return isPage ? target : 'repositories';
}

export default async function render(view) {
  view.setTitle('Sign in');
  const returnUrl = safeReturnUrl(view.query);
  if (view.session) {
    view.navigate(returnUrl, { replace: true });
    return;
  }

  const userName = textField('User name', { name: 'userName', required: true, autocomplete: 'username' });
  const password = textField('Password or access token', {
    name: 'password', type: 'password', required: true, autocomplete: 'current-password',
    hint: 'An access token from My account works in place of the password.',
  });
  const signInForm = form({
    label: 'Sign in',
    fields: [userName.field, password.field],
    submitLabel: 'Sign in',
    busyLabel: 'Signing in…',
    onSubmit: async () => {
      await view.api.post('/session', { userName: userName.input.value.trim(), password: password.input.value });
      await view.sessionChanged();
      view.navigate(returnUrl, { replace: true });
    },
  });

  const ssoError = view.query.get('error');
  replace(view.main, h('section', { class: 'signin' },
    h('h1', { tabIndex: -1 }, `Sign in to ${view.config.product}`),
    ssoError ? h('div', { class: 'error-state', role: 'alert' }, h('p', {}, ssoError)) : null,
    signInForm,
    view.config.singleSignOn
      ? h('div', { class: 'sso' },
        h('p', { class: 'divider' }, 'or'),
        h('a', { class: 'button', 'data-reload': true, href: `sso?returnUrl=${encodeURIComponent(returnUrl)}` }, `Sign in with ${view.config.singleSignOn}`))
      : null));
}
