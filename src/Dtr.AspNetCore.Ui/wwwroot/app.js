// The application shell: reads the host's settings from the page, loads the session, draws the navigation and
// renders the page module that matches the address. Links inside the interface change pages without a reload.

import { createApi, ApiError } from './api.js';
import { h, replace } from './dom.js';
import { errorState, loading, toast, errorMessage } from './components.js';

const root = document.documentElement;
const config = {
  base: root.dataset.base,
  api: root.dataset.api,
  product: root.dataset.product || 'Dtr',
  singleSignOn: root.dataset.sso || null,
  // The host and port that image references use, from the registry's public address; null means this page's host.
  registryHost: root.dataset.registryHost || null,
};

// The session the API returned: { userName, isAdmin, authenticationEnabled, csrfToken, expiresAt }, or null.
const session = { current: null, csrfToken: null };
const api = createApi(config.api, session, () => onUnauthorized());

/**
 * The routes, matched in order against the path below the interface's base. A route's `admin` flag hides it from
 * people who are not system administrators. Repository names contain '/', so a repository's pages end with
 * "/-/…", which no repository name can contain.
 */
const routes = [
  { pattern: /^$/, page: 'repositories' },
  { pattern: /^repositories$/, page: 'repositories' },
  { pattern: /^repositories\/(?<name>.+?)\/-\/images\/(?<digest>[^/]+)$/, page: 'image' },
  { pattern: /^repositories\/(?<name>.+)$/, page: 'repository' },
  { pattern: /^organizations$/, page: 'organizations' },
  { pattern: /^organizations\/(?<org>[^/]+)\/teams\/(?<team>[^/]+)$/, page: 'team' },
  { pattern: /^organizations\/(?<org>[^/]+)$/, page: 'organization' },
  { pattern: /^users$/, page: 'users', admin: true },
  { pattern: /^account$/, page: 'account' },
  { pattern: /^settings$/, page: 'settings', admin: true },
  { pattern: /^signin$/, page: 'signin', public: true },
];

const navigation = [
  { href: 'repositories', label: 'Repositories', match: /^(repositories|$)/ },
  { href: 'organizations', label: 'Organizations', match: /^organizations/ },
  { href: 'users', label: 'Users', match: /^users/, admin: true },
  { href: 'settings', label: 'Settings', match: /^settings/, admin: true },
];

let cleanup = null;

/** Returns the path below the interface's base, without leading or trailing '/'. */
function currentRoute() {
  const path = decodeURI(location.pathname);
  if (path + '/' === config.base) {
    return '';
  }
  const relative = path.startsWith(config.base) ? path.slice(config.base.length) : path.replace(/^\/+/, '');
  return relative.replace(/\/+$/, '');
}

/** Moves to a page of the interface. `target` is relative to the base, such as "repositories/acme/web". */
export function navigate(target, { replace: replaceEntry = false } = {}) {
  const url = new URL(target, document.baseURI);
  if (replaceEntry) {
    history.replaceState(null, '', url);
  } else {
    history.pushState(null, '', url);
  }
  render();
}

function onUnauthorized() {
  if (session.current?.authenticationEnabled === false) {
    return;
  }
  session.current = null;
  session.csrfToken = null;
  if (currentRoute() !== 'signin') {
    const returnTo = currentRoute() + location.search;
    navigate(`signin?returnUrl=${encodeURIComponent(returnTo)}`, { replace: true });
  }
}

async function loadSession() {
  try {
    const current = await api.get('/session');
    session.current = current;
    session.csrfToken = current.csrfToken;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      throw error;
    }
    session.current = null;
    session.csrfToken = null;
  }
}

/** Signs out, then shows the sign-in page. */
async function signOut() {
  try {
    await api.delete('/session');
  } catch (error) {
    toast(errorMessage(error), { kind: 'error' });
  }
  session.current = null;
  session.csrfToken = null;
  navigate('signin', { replace: true });
}

function renderHeader(route) {
  const header = document.getElementById('site-header');
  const user = session.current;
  const links = user
    ? navigation.filter((item) => !item.admin || user.isAdmin).map((item) => h('li', {},
      h('a', { href: item.href, 'aria-current': item.match.test(route) ? 'page' : null }, item.label)))
    : [];
  const account = user?.authenticationEnabled
    ? h('div', { class: 'account-menu' },
      h('a', { href: 'account', 'aria-current': route === 'account' ? 'page' : null }, h('span', { class: 'visually-hidden' }, 'My account: '), user.userName),
      user.isAdmin ? h('span', { class: 'badge' }, 'Admin') : null,
      h('button', { type: 'button', class: 'button small', onClick: signOut }, 'Sign out'))
    : null;
  replace(header,
    h('a', { href: '', class: 'brand' }, config.product, h('span', { class: 'brand-sub' }, ' registry')),
    links.length ? h('nav', { 'aria-label': 'Main' }, h('ul', {}, links)) : null,
    account);
}

function forbiddenPage() {
  return h('section', { class: 'page' },
    h('h1', { tabIndex: -1 }, 'Access denied'),
    h('p', {}, 'This page is for system administrators. Ask one of them if you need access.'),
    h('p', {}, h('a', { href: 'repositories' }, 'Go to repositories')));
}

function notFoundPage() {
  return h('section', { class: 'page' },
    h('h1', { tabIndex: -1 }, 'Page not found'),
    h('p', {}, 'No page of this interface has that address.'),
    h('p', {}, h('a', { href: 'repositories' }, 'Go to repositories')));
}

async function render() {
  cleanup?.();
  cleanup = null;
  const route = currentRoute();
  const main = document.getElementById('main');
  const match = routes.map((candidate) => ({ candidate, result: candidate.pattern.exec(route) })).find((entry) => entry.result);

  if (!session.current && !match?.candidate.public) {
    const returnTo = route + location.search;
    history.replaceState(null, '', new URL(`signin?returnUrl=${encodeURIComponent(returnTo)}`, document.baseURI));
    return render();
  }

  renderHeader(route);

  // Each page renders into its own container, so a slow page that finishes after the person moved on writes into a
  // container that is no longer in the document.
  const container = h('div', { class: 'page' });
  replace(main, container);
  let title = config.product;
  const view = {
    main: container,
    params: Object.fromEntries(Object.entries(match?.result.groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value)])),
    query: new URLSearchParams(location.search),
    session: session.current,
    config,
    api,
    navigate,
    /** Sets the document title to "<text> · <product>". */
    setTitle(text) {
      title = `${text} · ${config.product}`;
      document.title = title;
    },
    /** Re-renders the current page, for example after a change elsewhere. */
    refresh: () => render(),
    /** Replaces the query string without adding a history entry, such as the selected tab. */
    setQuery(values) {
      const query = new URLSearchParams(location.search);
      for (const [name, value] of Object.entries(values)) {
        if (value === null || value === undefined || value === '') {
          query.delete(name);
        } else {
          query.set(name, value);
        }
      }
      const text = query.toString();
      history.replaceState(null, '', `${location.pathname}${text ? '?' + text : ''}`);
    },
    /** Signs in again after a sign-in page succeeded. */
    async sessionChanged() {
      await loadSession();
    },
  };

  if (!match) {
    replace(container, notFoundPage());
  } else if (match.candidate.admin && !session.current?.isAdmin) {
    replace(container, forbiddenPage());
  } else {
    replace(container, loading());
    try {
      const module = await import(`./pages/${match.candidate.page}.js`);
      const result = await module.default(view);
      cleanup = typeof result === 'function' ? result : null;
    } catch (error) {
      replace(container, errorState(error, () => render()));
    }
  }

  document.title = title;
  // Screen readers announce the new page when focus moves to its heading.
  const heading = container.querySelector('h1');
  (heading ?? main).focus({ preventScroll: false });
}

// Links inside the interface change pages in place; links that leave it, open a new tab or download behave as usual.
document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  if (link.target || link.hasAttribute('download') || link.hasAttribute('data-reload')) {
    return;
  }
  // With a <base> element, "#id" would resolve against the base and load another page, so in-page links only move focus.
  const href = link.getAttribute('href');
  if (href.startsWith('#')) {
    event.preventDefault();
    const target = document.getElementById(href.slice(1));
    target?.focus();
    target?.scrollIntoView();
    return;
  }
  const url = new URL(link.href, document.baseURI);
  if (url.origin !== location.origin || !url.pathname.startsWith(config.base) || url.pathname.startsWith(config.base + 'assets/')) {
    return;
  }
  event.preventDefault();
  history.pushState(null, '', url);
  render();
});

window.addEventListener('popstate', () => render());

try {
  await loadSession();
} catch (error) {
  replace(document.getElementById('main'), errorState(error, () => location.reload()));
  throw error;
}
await render();
