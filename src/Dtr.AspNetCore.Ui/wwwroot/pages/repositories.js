// The repository list: search, a namespace filter, paging, and a form that creates a repository.

import { h, replace, uniqueId } from '../dom.js';
import {
  checkboxField, dataTable, emptyState, errorState, form, loading, loadMoreButton, pageHeader, selectField, textField, toast,
} from '../components.js';
import { formatTime } from '../format.js';
import { commandLine, registryHost } from './repository-common.js';

const searchDelayMilliseconds = 300;

// Organization and user lists are read in full for the selects, up to this many pages.
const maxNamePages = 20;

/** Reads every name of a listing such as "/organizations", following its pages. */
async function listNames(api, path, property) {
  const names = [];
  let next = path;
  for (let page = 0; next && page < maxNamePages; page += 1) {
    const result = await api.getPage(next);
    names.push(...(result.data[property] ?? []).map((item) => item.name));
    next = result.next;
  }
  return names;
}

/**
 * Returns the namespaces the caller may create repositories in: their own and the organizations they own, or every
 * organization for a system administrator.
 */
async function listCreatableNamespaces(api, session, organizations) {
  const own = session?.userName ? [session.userName] : [];
  if (session?.isAdmin) {
    // A system administrator may create repositories in every user's and every organization's namespace.
    const users = await listNames(api, '/users', 'users');
    return [...new Set([...own, ...organizations, ...users])];
  }
  const owned = await Promise.all(organizations.map((name) => api
    .get(`/organizations/${encodeURIComponent(name)}`)
    .then((organization) => (organization.owners?.includes(session.userName) ? name : null))
    .catch(() => null)));
  return [...own, ...owned.filter(Boolean)];
}

function repositoryColumns() {
  return [
    { label: 'Name', render: (repository) => h('a', { href: `repositories/${repository.name}` }, repository.name) },
    { label: 'Visibility', render: (repository) => (repository.visibility === 'public' ? 'Public' : 'Private') },
    { label: 'Description', render: (repository) => repository.description || h('span', { class: 'muted' }, '—') },
    { label: 'Scan on push', render: (repository) => (repository.scanOnPush ? 'Yes' : 'No') },
    { label: 'Tags', class: 'numeric', render: (repository) => String(repository.tagCount ?? '—') },
    { label: 'Last push', render: (repository) => formatTime(repository.lastPushedAt) },
  ];
}

export default async function render(view) {
  const { api, session } = view;
  view.setTitle('Repositories');

  let searchText = view.query.get('q') ?? '';
  let namespace = view.query.get('namespace') ?? '';
  let organizations = [];
  let searchTimer = null;
  let listRequest = 0;

  const newButton = h('button', { type: 'button', class: 'button primary', 'aria-expanded': 'false' }, 'New repository');
  const createArea = h('div', { class: 'create-repository', hidden: true, id: uniqueId('create-repository') });
  newButton.setAttribute('aria-controls', createArea.id);

  const search = textField('Search repositories', { name: 'q', type: 'search', value: searchText, autocomplete: 'off' });
  const namespaceFilter = selectField('Namespace', { name: 'namespace', options: namespaceOptions(), value: namespace });
  const results = h('div', { class: 'repository-results' });

  replace(view.main,
    pageHeader('Repositories', { actions: [newButton] }),
    createArea,
    h('div', { class: 'toolbar', role: 'search', 'aria-label': 'Repositories' }, search.field, namespaceFilter.field),
    results);

  function namespaceOptions() {
    const names = new Set([session?.userName, ...organizations, namespace].filter(Boolean));
    return [['', 'All namespaces'], ...[...names].map((name) => [name, name])];
  }

  function refreshNamespaceOptions() {
    replace(namespaceFilter.input, namespaceOptions().map(([value, label]) => h('option', { value, selected: value === namespace }, label)));
  }

  async function loadList() {
    listRequest += 1;
    const request = listRequest;
    replace(results, loading('Loading repositories…'));
    const path = namespace ? `/repositories/${encodeURIComponent(namespace)}` : '/repositories';
    try {
      const page = await api.getPage(path, { query: { q: searchText } });
      if (request === listRequest) {
        showList(page);
      }
    } catch (error) {
      if (request === listRequest) {
        replace(results, errorState(error, loadList));
      }
    }
  }

  function showList(firstPage) {
    const rows = [...(firstPage.data.repositories ?? [])];
    let next = firstPage.next;
    if (rows.length === 0) {
      replace(results, emptyList());
      return;
    }

    const tableHolder = h('div', {});
    const count = h('p', { class: 'muted', role: 'status' });
    const drawTable = () => {
      replace(tableHolder, dataTable({ caption: 'Repositories', columns: repositoryColumns(), rows, rowKey: (row) => row.name }));
      count.textContent = `${rows.length} ${rows.length === 1 ? 'repository' : 'repositories'} shown${next ? ', more available' : ''}.`;
    };
    drawTable();

    const more = next
      ? loadMoreButton(async () => {
        const firstNew = rows.length;
        const page = await api.getPage(next);
        rows.push(...(page.data.repositories ?? []));
        next = page.next;
        drawTable();
        if (!next) {
          // The button goes away, so focus moves to the first repository of the new page.
          tableHolder.querySelectorAll('tbody tr')[firstNew]?.querySelector('a')?.focus();
        }
        return Boolean(next);
      })
      : null;
    replace(results, count, tableHolder, more);
  }

  function emptyList() {
    if (searchText || namespace) {
      return emptyState('No repositories match the search and namespace filter.');
    }
    const example = `${registryHost(view)}/${session?.userName ?? 'namespace'}/app:latest`;
    return h('div', { class: 'empty-state' },
      h('p', {}, 'There are no repositories you can see yet. Create one with New repository, or push an image:'),
      commandLine(`docker push ${example}`));
  }

  search.input.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      searchText = search.input.value.trim();
      view.setQuery({ q: searchText });
      loadList();
    }, searchDelayMilliseconds);
  });

  namespaceFilter.input.addEventListener('change', () => {
    namespace = namespaceFilter.input.value;
    view.setQuery({ namespace });
    loadList();
  });

  newButton.addEventListener('click', () => {
    if (!createArea.hidden) {
      closeCreateForm();
      return;
    }
    createArea.hidden = false;
    newButton.setAttribute('aria-expanded', 'true');
    showCreateForm();
  });

  function closeCreateForm() {
    createArea.hidden = true;
    replace(createArea);
    newButton.setAttribute('aria-expanded', 'false');
    newButton.focus();
  }

  async function showCreateForm() {
    replace(createArea, loading('Loading namespaces…'));
    let namespaces;
    try {
      namespaces = await listCreatableNamespaces(api, session, organizations);
    } catch (error) {
      replace(createArea, errorState(error, showCreateForm));
      return;
    }
    if (namespaces.length === 0) {
      const reason = session?.isAdmin
        ? ['There is no user or organization to create a repository in yet. ', h('a', { href: 'organizations' }, 'Create an organization'), ' first.']
        : ['You cannot create repositories here because you own no namespace. Ask an organization owner or a system administrator.'];
      replace(createArea, h('div', { class: 'card' },
        h('p', {}, reason),
        h('button', { type: 'button', class: 'button', onClick: closeCreateForm }, 'Close')));
      createArea.querySelector('button').focus();
      return;
    }
    replace(createArea, createForm(namespaces));
    createArea.querySelector('select, input')?.focus();
  }

  function createForm(namespaces) {
    const preferred = namespaces.includes(namespace) ? namespace : namespaces[0];
    const namespaceField = selectField('Namespace', { name: 'namespace', options: namespaces.map((name) => [name, name]), value: preferred });
    const name = textField('Name', {
      name: 'name', required: true, autocomplete: 'off',
      hint: 'Lowercase letters and digits, separated by ".", "_", "__" or "-". Use "/" for a path, such as tools/web.',
    });
    const description = textField('Description', { name: 'description', multiline: true });
    const visibility = selectField('Visibility', {
      name: 'visibility', options: [['private', 'Private'], ['public', 'Public']], value: 'private',
      hint: 'Every signed-in user can pull a public repository.',
    });
    const scanOnPush = checkboxField('Scan on push', { name: 'scanOnPush', hint: 'Scan each image for vulnerabilities when it is pushed.' });
    const immutableTags = checkboxField('Immutable tags', { name: 'immutableTags', hint: 'A pushed tag cannot be moved to another image or deleted.' });
    const cancel = h('button', { type: 'button', class: 'button', onClick: closeCreateForm }, 'Cancel');

    return h('section', { class: 'card', 'aria-labelledby': 'create-repository-heading' },
      h('h2', { id: 'create-repository-heading' }, 'New repository'),
      form({
        label: 'New repository',
        fields: [namespaceField.field, name.field, description.field, visibility.field, scanOnPush.field, immutableTags.field],
        submitLabel: 'Create repository',
        busyLabel: 'Creating…',
        extraButtons: [cancel],
        onSubmit: async () => {
          const created = await api.post(`/repositories/${encodeURIComponent(namespaceField.input.value)}`, {
            name: name.input.value.trim(),
            description: description.input.value.trim() || null,
            visibility: visibility.input.value,
            scanOnPush: scanOnPush.input.checked,
            immutableTags: immutableTags.input.checked,
          });
          toast(`Repository ${created.name} created.`);
          view.navigate(`repositories/${created.name}`);
        },
      }));
  }

  // Escape closes the form, like a dialog, when focus is inside it.
  createArea.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      closeCreateForm();
    }
  });

  const organizationsLoaded = listNames(api, '/organizations', 'organizations')
    .then((names) => {
      organizations = names;
      refreshNamespaceOptions();
    })
    .catch(() => {
      // The filter keeps "All namespaces" and the caller's own namespace, and the list itself still loads.
    });
  await Promise.all([loadList(), organizationsLoaded]);

  return () => clearTimeout(searchTimer);
}
