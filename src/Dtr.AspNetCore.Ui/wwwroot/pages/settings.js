// The settings page (system administrators): the registry's runtime settings from GET|PATCH /settings, one tab per
// group (?tab=general|security|gc|storage|certificate). A saved value overrides the host's configuration on every
// host. An empty field sends null, which resets the setting to the configured value. The certificate tab is the
// exception: it shows and replaces the HTTPS certificate of the host that serves the page.

import { h, replace } from '../dom.js';
import { checkboxField, form, loadInto, pageHeader, tabs, textField, toast } from '../components.js';
import { formatBytes, formatTime } from '../format.js';
import { withFieldNames } from './settings-fields.js';
import renderSecurity from './settings-security.js';
import renderGarbageCollection from './settings-gc.js';
import renderCertificate from './settings-certificate.js';

const tabItems = [
  { id: 'general', label: 'General' },
  { id: 'security', label: 'Security' },
  { id: 'gc', label: 'Garbage collection' },
  { id: 'storage', label: 'Storage' },
  { id: 'certificate', label: 'Certificate' },
];

export default async function render(view) {
  view.setTitle('Settings');
  const body = h('div', {});
  replace(view.main, pageHeader('Settings'), body);

  // The open tab may start timers, because the garbage collection tab polls a running run. They stop when the tab
  // changes and when the person leaves the page.
  let stopTab = null;
  function stopOpenTab() {
    stopTab?.();
    stopTab = null;
  }

  await loadInto(body, () => view.api.get('/settings'), (settings) => {
    const state = { settings };
    const changed = h('p', { class: 'muted' });
    showChanged();

    function showChanged() {
      const { updatedAt, updatedBy } = state.settings;
      replace(changed, updatedAt
        ? `Last changed ${formatTime(updatedAt)}${updatedBy ? ` by ${updatedBy}` : ''}. Settings left empty use the host's configuration.`
        : 'No setting was changed here yet: every value comes from the host\'s configuration.');
    }

    const context = {
      view,
      get settings() {
        return state.settings;
      },
      /** Sends a JSON merge patch and keeps the effective settings that the API returns. */
      async save(patch) {
        try {
          state.settings = await view.api.patch('/settings', patch, { contentType: 'application/merge-patch+json' });
        } catch (error) {
          throw withFieldNames(error);
        }
        showChanged();
        return state.settings;
      },
    };

    const selected = tabItems.some((item) => item.id === view.query.get('tab')) ? view.query.get('tab') : 'general';
    const tabView = tabs({
      label: 'Settings',
      tabs: tabItems,
      selected,
      onSelect: (id, panel, fromUser) => {
        if (fromUser) {
          view.setQuery({ tab: id === 'general' ? null : id });
        }
        stopOpenTab();
        if (id === 'security') {
          stopTab = renderSecurity(context, panel);
        } else if (id === 'gc') {
          stopTab = renderGarbageCollection(context, panel);
        } else if (id === 'storage') {
          renderStorage(context, panel);
        } else if (id === 'certificate') {
          renderCertificate(context, panel);
        } else {
          renderGeneral(context, panel);
        }
      },
    });
    return h('div', {}, changed, tabView.element);
  });

  return stopOpenTab;
}

function renderGeneral(context, panel) {
  const general = context.settings.general;
  const publicAddress = textField('Public address', {
    name: 'publicBaseUrl', type: 'url', value: general.publicBaseUrl ?? '', autocomplete: 'off', placeholder: 'https://registry.example.com/',
    hint: 'The https address that clients use, when the registry runs behind a load balancer or proxy. Empty uses the configured address, or the address of each request when none is configured.',
  });
  const createOnPush = checkboxField('Create repositories on push', {
    name: 'createRepositoryOnPush', checked: general.createRepositoryOnPush,
    hint: 'A push to a repository that does not exist creates it as a private repository, in the pushing user\'s own namespace or an organization they own.',
  });
  replace(panel,
    h('h2', {}, 'General'),
    form({
      label: 'General settings',
      fields: [publicAddress.field, createOnPush.field],
      submitLabel: 'Save general settings',
      onSubmit: async () => {
        const saved = await context.save({
          general: {
            publicBaseUrl: publicAddress.input.value.trim() || null,
            createRepositoryOnPush: createOnPush.input.checked,
          },
        });
        publicAddress.input.value = saved.general.publicBaseUrl ?? '';
        createOnPush.input.checked = saved.general.createRepositoryOnPush;
        toast('Saved the general settings.');
      },
    }));
}

function renderStorage(context, panel) {
  const storage = context.settings.storage;
  replace(panel,
    h('h2', {}, 'Storage'),
    h('p', { class: 'muted' }, 'The stores are chosen in the host\'s configuration and cannot be changed here.'),
    h('dl', { class: 'details card' },
      h('dt', {}, 'Blob store'), h('dd', {}, storage.blobStore ?? '—'),
      h('dt', {}, 'Location'), h('dd', {}, storage.blobStoreLocation ? h('code', {}, storage.blobStoreLocation) : '—'),
      h('dt', {}, 'Metadata store'), h('dd', {}, storage.metadataStore ?? '—'),
      h('dt', {}, 'Blobs'), h('dd', {}, storage.blobCount === null || storage.blobCount === undefined ? '—' : storage.blobCount.toLocaleString()),
      h('dt', {}, 'Total size'), h('dd', {}, formatBytes(storage.totalBytes))));
}
