// The Garbage collection tab of the settings page: the schedule, manual and dry runs with cancellation, the
// reclaimable estimate and the history of runs with what each removed.

import { h, replace } from '../dom.js';
import {
  checkboxField, confirmDialog, dataTable, emptyState, errorMessage, form, loadInto, loadMoreButton, textField, toast,
} from '../components.js';
import { formatBytes, formatTime, shortDigest } from '../format.js';
import { readMinutes } from './settings-fields.js';

/** How often the tab reads a running run's state, in milliseconds. */
const pollInterval = 2000;

const statusLabels = {
  running: 'Running',
  completed: 'Completed',
  budgetExhausted: 'Stopped: time budget used up',
  cancelled: 'Cancelled',
  failed: 'Failed',
  interrupted: 'Interrupted: its host stopped',
};

const itemKindLabels = { manifest: 'Manifest', blobLink: 'Blob link', blob: 'Blob', upload: 'Upload' };

/** Renders the tab into `panel`. Returns a function that stops polling when the tab closes. */
export default function renderGarbageCollection(context, panel) {
  const { view } = context;
  const runArea = h('div', { class: 'card gc-run' });
  const reclaimable = h('div', {});
  const history = h('div', {});
  let timer = null;
  let closed = false;

  function stopPolling() {
    clearTimeout(timer);
    timer = null;
  }

  // ----- Running a collection -----

  function showIdle() {
    const settings = context.settings.garbageCollection;
    replace(runArea,
      h('p', {}, 'No run is in progress. Runs started here use the schedule\'s time budget and Delete untagged manifests setting.'),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'button danger', onClick: () => start(false) }, 'Run now'),
        h('button', { type: 'button', class: 'button', onClick: () => start(true) }, 'Dry run')),
      settings.deleteUntagged ? h('p', { class: 'muted' }, 'Manifests that no tag reaches are deleted too.') : null);
  }

  function showRunning(run) {
    const cancelButton = h('button', { type: 'button', class: 'button danger', disabled: run.cancelRequested, onClick: () => cancel(run, cancelButton) },
      run.cancelRequested ? 'Cancelling…' : 'Cancel run');
    replace(runArea,
      h('p', { role: 'status' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' ',
        `${run.dryRun ? 'A dry run' : 'A run'} started ${formatTime(run.startedAt)}${run.host ? ` on ${run.host}` : ''} is in progress: `,
        `${run.manifestsDeleted} manifests, ${run.blobsDeleted} blobs, ${formatBytes(run.bytesFreed)} ${run.dryRun ? 'found' : 'freed'} so far.`),
      h('div', { class: 'form-actions' }, cancelButton));
  }

  async function start(dryRun) {
    if (!dryRun) {
      const confirmed = await confirmDialog({
        title: 'Run garbage collection now?',
        message: ['This deletes unreferenced data. It cannot be undone.', 'Use Dry run first to see what a run would delete.'],
        confirmLabel: 'Run now',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
    }
    const settings = context.settings.garbageCollection;
    // A second click while the first request is on its way would start a second run and get 409.
    for (const button of runArea.querySelectorAll('button')) {
      button.disabled = true;
    }
    try {
      const run = await view.api.post('/gc/runs', {
        dryRun,
        deleteUntagged: settings.deleteUntagged,
        maxDurationMinutes: settings.maxDurationMinutes ?? null,
      });
      toast(dryRun ? 'The dry run started.' : 'Garbage collection started.');
      follow(run);
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
      const runningId = error.problem?.runningRunId;
      if (runningId) {
        await followId(runningId);
      } else {
        showIdle();
      }
    }
    await loadHistory();
  }

  async function cancel(run, button) {
    const confirmed = await confirmDialog({
      title: 'Cancel the run?',
      message: ['The run stops at its next heartbeat, within about 15 seconds by default. What it deleted until then stays deleted, and the next run goes on with the rest.'],
      confirmLabel: 'Cancel run',
      cancelLabel: 'Keep running',
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    button.disabled = true;
    try {
      follow(await view.api.post(`/gc/runs/${encodeURIComponent(run.id)}/cancel`));
      toast('Asked the run to stop.');
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
      await followId(run.id);
    }
  }

  /** Shows a run's state and, while it runs, reads it again every two seconds. */
  function follow(run) {
    stopPolling();
    if (closed) {
      return;
    }
    if (run.status !== 'running') {
      showIdle();
      return;
    }
    showRunning(run);
    timer = setTimeout(async () => {
      try {
        const current = await view.api.get(`/gc/runs/${encodeURIComponent(run.id)}`);
        if (current.status !== 'running' && !closed) {
          toast(`The ${current.dryRun ? 'dry run' : 'run'} ended: ${statusLabels[current.status] ?? current.status}.`);
          follow(current);
          await Promise.all([loadHistory(), loadReclaimable()]);
          return;
        }
        follow(current);
      } catch (error) {
        if (!closed) {
          replace(runArea, h('div', { class: 'error-state', role: 'alert' }, h('p', {}, errorMessage(error)),
            h('button', { type: 'button', class: 'button', onClick: () => followId(run.id) }, 'Retry')));
        }
      }
    }, pollInterval);
  }

  async function followId(id) {
    try {
      follow(await view.api.get(`/gc/runs/${encodeURIComponent(id)}`));
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
    }
  }

  // ----- Estimate and history -----

  async function loadReclaimable() {
    const deleteUntagged = context.settings.garbageCollection.deleteUntagged;
    await loadInto(reclaimable, () => view.api.get('/gc/reclaimable', { query: { deleteUntagged } }), (estimate) => h('div', {},
      h('dl', { class: 'details card' },
        h('dt', {}, 'Manifests'), h('dd', {}, estimate.manifests.toLocaleString()),
        h('dt', {}, 'Blobs'), h('dd', {}, estimate.blobs.toLocaleString()),
        h('dt', {}, 'Size'), h('dd', {}, formatBytes(estimate.bytes)),
        h('dt', {}, 'Stale uploads'), h('dd', {}, estimate.staleUploads.toLocaleString()),
        h('dt', {}, 'Estimated'), h('dd', {}, formatTime(estimate.computedAt))),
      h('p', { class: 'muted' }, estimate.deleteUntagged
        ? 'Counts manifests that no tag reaches, as the schedule deletes them.'
        : 'Leaves out manifests that no tag reaches, as the schedule keeps them.')));
  }

  function runTable(runs) {
    return dataTable({
      caption: 'Garbage collection runs',
      rowKey: (run) => run.id,
      rows: runs,
      columns: [
        { label: 'Started', render: (run) => formatTime(run.startedAt) },
        { label: 'Status', render: runStatus },
        { label: 'Dry run', render: (run) => (run.dryRun ? 'Yes' : 'No') },
        { label: 'Manifests', class: 'numeric', render: (run) => run.manifestsDeleted.toLocaleString() },
        { label: 'Blobs', class: 'numeric', render: (run) => run.blobsDeleted.toLocaleString() },
        { label: 'Bytes freed', class: 'numeric', render: (run) => formatBytes(run.bytesFreed) },
        { label: 'Duration', render: (run) => formatDuration(run.startedAt, run.endedAt) },
        { label: 'Items', render: runItems },
      ],
    });
  }

  function runStatus(run) {
    const label = statusLabels[run.status] ?? run.status;
    return h('span', {},
      label,
      run.trigger === 'schedule' ? h('span', { class: 'muted' }, ' (scheduled)') : null,
      run.errors.length > 0 ? h('ul', { class: 'run-errors' }, run.errors.map((text) => h('li', {}, text))) : null);
  }

  /** Creates an expandable list of what the run removed, read from the API when it is first opened. */
  function runItems(run) {
    const content = h('div', {});
    const details = h('details', {},
      h('summary', {}, 'Items', h('span', { class: 'visually-hidden' }, ` of the run started ${formatTime(run.startedAt)}`)),
      content);
    let loaded = false;
    details.addEventListener('toggle', () => {
      if (details.open && !loaded) {
        loaded = true;
        loadInto(content, () => view.api.getPage(`/gc/runs/${encodeURIComponent(run.id)}/items`, { query: { n: 50 } }), (page) => itemList(page));
      }
    });
    return details;
  }

  function itemList(page) {
    if (page.data.items.length === 0) {
      return emptyState('Nothing.');
    }
    const list = h('ul', { class: 'run-items' });
    const addItems = (items) => list.append(...items.map((item) => h('li', {},
      `${itemKindLabels[item.kind] ?? item.kind}: `,
      item.repository ? `${item.repository} ` : '',
      item.digest ? h('code', { title: item.digest }, shortDigest(item.digest)) : (item.uploadId ?? ''),
      ` (${formatBytes(item.size)})`)));
    addItems(page.data.items);
    let next = page.next;
    return h('div', {}, list, next ? loadMoreButton(async () => {
      const more = await view.api.getPage(next);
      next = more.next;
      addItems(more.data.items);
      return Boolean(next);
    }) : null);
  }

  async function loadHistory() {
    if (closed) {
      return;
    }
    const page = await loadInto(history, () => view.api.getPage('/gc/runs'), (first) => {
      if (first.data.runs.length === 0) {
        return emptyState('No garbage collection has run yet.');
      }
      let next = first.next;
      const wrapper = h('div', {}, runTable(first.data.runs));
      const tbody = wrapper.querySelector('tbody');
      if (next) {
        wrapper.append(loadMoreButton(async () => {
          const more = await view.api.getPage(next);
          next = more.next;
          tbody.append(...runTable(more.data.runs).querySelectorAll('tbody tr'));
          return Boolean(next);
        }));
      }
      return wrapper;
    });
    return page?.data.runs ?? [];
  }

  replace(panel,
    h('h2', {}, 'Schedule'),
    scheduleForm(context, loadReclaimable),
    h('h2', {}, 'Run garbage collection'),
    runArea,
    h('h2', {}, 'Reclaimable storage'),
    reclaimable,
    h('h2', {}, 'History'),
    history);

  showIdle();
  loadReclaimable();
  // Runs are listed newest first, so a run in progress is the first one.
  loadHistory().then((runs) => {
    const running = runs.find((run) => run.status === 'running');
    if (running) {
      follow(running);
    }
  });

  return () => {
    closed = true;
    stopPolling();
  };
}

function scheduleForm(context, afterSave) {
  const settings = context.settings.garbageCollection;
  const interval = textField('Interval (minutes)', {
    name: 'scheduleIntervalMinutes', type: 'number', min: 1, value: String(settings.scheduleIntervalMinutes ?? ''),
    hint: 'Starts a run this many minutes after the previous scheduled run started. Fill in the interval or the cron expression, not both; leave both empty to run only on request.',
  });
  const cron = textField('Cron expression', {
    name: 'scheduleCron', value: settings.scheduleCron ?? '', autocomplete: 'off', placeholder: '0 3 * * *',
    hint: 'Five fields (minute, hour, day of month, month, day of week), or six with seconds first. "0 3 * * *" runs every day at 03:00.',
  });
  const timeZone = textField('Time zone', {
    name: 'scheduleTimeZone', value: settings.scheduleTimeZone ?? '', autocomplete: 'off', placeholder: 'UTC',
    hint: 'The IANA time zone the cron expression is read in, such as Europe/Berlin. Empty uses the configured zone.',
  });
  const budget = textField('Time budget (minutes)', {
    name: 'maxDurationMinutes', type: 'number', min: 1, max: 43200, value: String(settings.maxDurationMinutes ?? ''),
    hint: 'A run stops after this many minutes and the next run goes on with the rest. From 1 to 43200 (30 days); empty uses the configured budget.',
  });
  const deleteUntagged = checkboxField('Delete untagged manifests', {
    name: 'deleteUntagged', checked: settings.deleteUntagged,
    hint: 'Runs also delete image manifests that no tag reaches, such as images whose tag was moved to a newer push.',
  });

  return form({
    label: 'Schedule',
    fields: [interval.field, cron.field, timeZone.field, budget.field, deleteUntagged.field],
    submitLabel: 'Save schedule',
    onSubmit: async () => {
      const saved = await context.save({
        garbageCollection: {
          scheduleIntervalMinutes: readMinutes(interval.input),
          scheduleCron: cron.input.value.trim() || null,
          scheduleTimeZone: timeZone.input.value.trim() || null,
          maxDurationMinutes: readMinutes(budget.input),
          deleteUntagged: deleteUntagged.input.checked,
        },
      }).then((document) => document.garbageCollection);
      interval.input.value = String(saved.scheduleIntervalMinutes ?? '');
      cron.input.value = saved.scheduleCron ?? '';
      timeZone.input.value = saved.scheduleTimeZone ?? '';
      budget.input.value = String(saved.maxDurationMinutes ?? '');
      deleteUntagged.input.checked = saved.deleteUntagged;
      toast('Saved the schedule.');
      await afterSave();
    },
  });
}

/** Formats the time between two ISO 8601 times as "1 h 5 min", "3 min 20 s" or "12 s", or "—" while the run goes on. */
function formatDuration(startedAt, endedAt) {
  if (!endedAt) {
    return '—';
  }
  const seconds = Math.max(0, Math.round((new Date(endedAt) - new Date(startedAt)) / 1000));
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${seconds % 60} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
