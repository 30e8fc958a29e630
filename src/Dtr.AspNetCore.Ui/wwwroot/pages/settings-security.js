// The Security tab of the settings page: image scanning settings, the vulnerability database's state, its online
// update and the upload of a database archive for registries without internet access.

import { h, replace } from '../dom.js';
import { ApiError } from '../api.js';
import { checkboxField, dataTable, emptyState, errorMessage, form, loadInto, textField, toast } from '../components.js';
import { formatTime } from '../format.js';
import { fileField, radioGroup, readMinutes } from './settings-fields.js';

/** Renders the tab into `panel`. Returns a function that stops its work when the tab closes. */
export default function renderSecurity(context, panel) {
  const { view } = context;
  const status = h('div', {});
  let closed = false;

  async function loadStatus() {
    if (!closed) {
      await loadInto(status, () => view.api.get('/scanning/database'), (database) => databaseStatus(database));
    }
  }

  function databaseStatus(database) {
    const online = database.online;
    const updateButton = online.urls.length > 0
      ? h('button', { type: 'button', class: 'button', onClick: () => startUpdate(updateButton) }, 'Update now')
      : null;
    return h('div', {},
      h('dl', { class: 'details card' },
        h('dt', {}, 'Records'), h('dd', {}, database.recordCount.toLocaleString()),
        h('dt', {}, 'Last change'), h('dd', {}, formatTime(database.updatedAt)),
        h('dt', {}, 'Version'), h('dd', {}, String(database.version)),
        h('dt', {}, 'Signature'), h('dd', {}, database.signatureRequired ? 'Required for every archive' : 'Not required'),
        h('dt', {}, 'Images waiting for a scan'), h('dd', {}, String(database.queueLength)),
        h('dt', {}, 'Online update'), h('dd', {}, online.urls.length > 0 ? `From ${online.urls.length === 1 ? '1 URL' : `${online.urls.length} URLs`}` : 'Off (offline mode)'),
        online.urls.length > 0 ? [
          h('dt', {}, 'Last attempt'), h('dd', {}, formatTime(online.lastAttemptAt)),
          h('dt', {}, 'Last success'), h('dd', {}, formatTime(online.lastSuccessAt)),
          h('dt', {}, 'Next attempt'), h('dd', {}, formatTime(online.nextAttemptAt)),
        ] : null,
        online.lastError ? [h('dt', {}, 'Last error'), h('dd', { class: 'field-error' }, online.lastError)] : null),
      database.sources.length === 0
        ? emptyState('The database has no sources yet. Set database URLs for online updates, or upload an archive.')
        : dataTable({
          caption: 'Database sources',
          rowKey: (source) => source.name,
          rows: database.sources,
          columns: [
            { label: 'Source', render: (source) => source.name },
            { label: 'Records', class: 'numeric', render: (source) => source.recordCount.toLocaleString() },
            { label: 'Imported', render: (source) => formatTime(source.updatedAt) },
            { label: 'Signature verified', render: (source) => (source.signatureVerified ? 'Yes' : 'No') },
          ],
        }),
      h('div', { class: 'form-actions' },
        updateButton,
        h('button', { type: 'button', class: 'button', onClick: loadStatus }, 'Refresh status')));
  }

  async function startUpdate(button) {
    button.disabled = true;
    try {
      await view.api.post('/scanning/database/update');
      toast('The online update started. Refresh the status to see its result.');
      await loadStatus();
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
      button.disabled = false;
    }
  }

  replace(panel,
    h('h2', {}, 'Image scanning'),
    scanningForm(context, loadStatus),
    h('h2', {}, 'Vulnerability database'),
    status,
    h('h3', {}, 'Upload a database archive'),
    uploadForm(view, loadStatus));
  loadStatus();
  return () => {
    closed = true;
  };
}

function scanningForm(context, afterSave) {
  let scanning = context.settings.scanning;
  const enabled = checkboxField('Enable image scanning', {
    name: 'enabled', checked: scanning.enabled,
    hint: 'Scans images on push where a repository asks for it, and on request. When off, scan requests are rejected and queued scans wait.',
  });
  const urls = textField('Database URLs', {
    name: 'databaseUrls', multiline: true, value: scanning.databaseUrls.join('\n'),
    hint: 'One URL of an OSV archive (zip or tar.gz) per line. A URL is shown without its user information and with its query values as "…"; leave such a line unchanged to keep the stored values.',
  });
  const interval = textField('Update interval (minutes)', {
    name: 'updateIntervalMinutes', type: 'number', min: 1, max: 43200, value: String(scanning.updateIntervalMinutes ?? ''),
    hint: 'From 1 to 43200 (30 days). Empty uses the configured interval.',
  });
  const onlineFields = h('div', { class: 'field-group' }, urls.field, interval.field);
  const mode = radioGroup('Vulnerability database updates', {
    name: 'mode',
    value: scanning.mode,
    options: [['online', 'Online: download the database from URLs'], ['offline', 'Offline: upload archives here']],
    onChange: () => showModeFields(),
  });

  function showModeFields() {
    onlineFields.hidden = mode.value !== 'online';
  }
  showModeFields();

  return form({
    label: 'Image scanning settings',
    fields: [enabled.field, mode.field, onlineFields],
    submitLabel: 'Save security settings',
    onSubmit: async () => {
      const patch = { enabled: enabled.input.checked };
      if (mode.value === 'offline') {
        patch.mode = 'offline';
      } else {
        const list = urls.input.value.split('\n').map((line) => line.trim()).filter(Boolean);
        if (list.length === 0) {
          urls.input.focus();
          throw new Error('Online updates need at least one database URL. Add one, or choose Offline.');
        }
        // The API returns URLs redacted, so an unchanged list is left out of the patch and the stored URLs stay.
        if (scanning.mode !== 'online' || list.join('\n') !== scanning.databaseUrls.join('\n')) {
          patch.databaseUrls = list;
        }
        patch.updateIntervalMinutes = readMinutes(interval.input);
      }
      const saved = await context.save({ scanning: patch });
      scanning = saved.scanning;
      urls.input.value = saved.scanning.databaseUrls.join('\n');
      interval.input.value = String(saved.scanning.updateIntervalMinutes ?? '');
      enabled.input.checked = saved.scanning.enabled;
      toast('Saved the security settings.');
      await afterSave();
    },
  });
}

function uploadForm(view, afterUpload) {
  const archive = fileField('Database archive', {
    name: 'archive', accept: '.zip,.tar.gz,.tgz', required: true,
    hint: 'An OSV archive: a zip or gzip-compressed tar file of OSV JSON records. It replaces the records of the "upload" source.',
  });
  const signature = fileField('Signature', {
    name: 'signature',
    hint: 'Optional, unless the registry requires signed archives: the archive\'s detached signature file.',
  });
  const progress = h('div', { class: 'upload-progress', role: 'status' });

  const element = form({
    label: 'Offline database upload',
    fields: [archive.field, signature.field, progress],
    submitLabel: 'Upload database',
    busyLabel: 'Uploading…',
    onSubmit: async () => {
      const file = archive.input.files[0];
      if (!file) {
        archive.input.focus();
        throw new Error('Choose the database archive to upload.');
      }
      const body = new FormData();
      body.append('archive', file, file.name);
      if (signature.input.files[0]) {
        body.append('signature', signature.input.files[0], signature.input.files[0].name);
      }
      let result;
      try {
        result = await upload(view, body, progress);
      } finally {
        replace(progress);
      }
      element.reset();
      toast(result.unchanged
        ? `The archive is the current copy of source ${result.source}; nothing changed.`
        : `Imported ${result.recordCount.toLocaleString()} ${result.recordCount === 1 ? 'record' : 'records'} into source ${result.source}.`);
      await afterUpload();
    },
  });
  return element;
}

/**
 * Sends the archive with XMLHttpRequest rather than the API client, because only XMLHttpRequest reports upload
 * progress. Resolves with the import result, or rejects with an ApiError like the API client does.
 */
function upload(view, body, progress) {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Upload progress' });
  const text = h('span', {}, 'Uploading… 0%');
  replace(progress, bar, ' ', text);

  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('PUT', `${view.api.prefix}/scanning/database`);
    request.setRequestHeader('Accept', 'application/json');
    if (view.session?.csrfToken) {
      request.setRequestHeader('X-CSRF-Token', view.session.csrfToken);
    }
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) {
        const percent = Math.floor((event.loaded / event.total) * 100);
        bar.value = percent;
        replace(text, `Uploading… ${percent}%`);
      }
    });
    request.upload.addEventListener('load', () => {
      bar.removeAttribute('value');
      replace(text, 'Importing the records… This can take a few minutes for a large archive.');
    });
    request.addEventListener('load', () => {
      let document = null;
      try {
        document = JSON.parse(request.responseText);
      } catch {
        document = { title: request.statusText };
      }
      if (request.status >= 200 && request.status < 300) {
        resolve(document);
        return;
      }
      if (request.status === 401) {
        // Reading the session through the API client lets the shell move to the sign-in page.
        view.api.get('/session').catch(() => {});
      }
      reject(new ApiError(request.status, document));
    });
    request.addEventListener('error', () => reject(new ApiError(0, {
      title: 'Network error', detail: 'The upload failed because the registry could not be reached. Check your connection and try again.',
    })));
    request.send(body);
  });
}
