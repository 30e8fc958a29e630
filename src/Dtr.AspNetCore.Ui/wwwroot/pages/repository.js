// A repository: the pull command, and tabs for its tags, its settings and its team permissions.

import { h, replace } from '../dom.js';
import { ApiError } from '../api.js';
import {
  checkboxField, confirmDialog, dataTable, emptyState, errorMessage, errorState, form, loadInto, loading, loadMoreButton,
  pageHeader, selectField, tabs, textField, toast,
} from '../components.js';
import { formatBytes, formatTime, shortDigest } from '../format.js';
import {
  commandLine, hasLevel, imageHref, isScanPending, readAccessLevel, readOrganization, registryHost, repositoryApiPath,
  scanSummary, splitName,
} from './repository-common.js';

const scanPollMilliseconds = 3000;

const accessLevelLabels = { 'read-only': 'Read only', 'read-write': 'Read and write', admin: 'Admin' };

const tabItems = [
  { id: 'tags', label: 'Tags' },
  { id: 'settings', label: 'Settings' },
  { id: 'permissions', label: 'Permissions' },
];

export default async function render(view) {
  const { api } = view;
  const name = view.params.name;
  view.setTitle(name);

  if (!splitName(name)) {
    replace(view.main, pageHeader(name, { breadcrumbs: [['Repositories', 'repositories'], [name]] }),
      errorState(new Error(`"${name}" is not a repository name: a repository is addressed as namespace/name.`)));
    return undefined;
  }

  const basePath = repositoryApiPath(api, name);
  const state = { repository: null, organization: null, level: 'none', firstTag: 'latest', pullCommand: null, stopPolling: null };

  const body = h('div', {});
  replace(view.main, pageHeader(name, { breadcrumbs: [['Repositories', 'repositories'], [name]] }), body);
  await loadInto(body, async () => {
    const repository = await api.get(basePath);
    const organization = await readOrganization(api, repository.namespace, view.session).catch(() => null);
    const [level, firstPage] = await Promise.all([
      readAccessLevel(api, view.session, repository, organization),
      api.getPage(`${basePath}/tags`, { query: { n: 1 } }),
    ]);
    return { repository, organization, level, firstTag: firstPage.data.tags?.[0]?.tag ?? 'latest' };
  }, (result) => {
    Object.assign(state, result);
    return page();
  });

  function page() {
    const pull = h('div', { class: 'pull-command' });
    state.pullCommand = pull;
    showPullCommand(state.firstTag);
    const selected = tabItems.some((item) => item.id === view.query.get('tab')) ? view.query.get('tab') : 'tags';
    const tabControl = tabs({
      label: 'Repository',
      tabs: tabItems,
      selected,
      onSelect: (id, panel, fromUser) => {
        stopPolling();
        if (fromUser) {
          view.setQuery({ tab: id === 'tags' ? null : id });
        }
        if (id === 'settings') {
          renderSettings(panel);
        } else if (id === 'permissions') {
          renderPermissions(panel);
        } else {
          renderTags(panel);
        }
      },
    });
    return [
      h('p', { class: 'repository-summary' },
        h('span', { class: 'badge' }, state.repository.visibility === 'public' ? 'Public' : 'Private'),
        state.repository.description ? ` ${state.repository.description}` : null),
      pull,
      tabControl.element,
    ];
  }

  /** Shows the pull command for a tag, such as the first one of the list after tags were deleted. */
  function showPullCommand(tag) {
    replace(state.pullCommand, commandLine(`docker pull ${registryHost(view)}/${name}:${tag}`));
  }

  function stopPolling() {
    state.stopPolling?.();
    state.stopPolling = null;
  }

  // ---- Tags ----

  function renderTags(panel) {
    // Deletes need push access, and the registry rejects every tag delete while tags are immutable.
    const canDelete = hasLevel(state.level, 'read-write') && !state.repository.immutableTags;
    let rows = [];
    let next = null;
    const statusCells = new Map();

    async function fetchTags(minimumCount) {
      const fetched = [];
      let target = `${basePath}/tags`;
      do {
        const result = await api.getPage(target);
        fetched.push(...(result.data.tags ?? []));
        target = result.next;
      } while (target && fetched.length < minimumCount);
      return { fetched, nextPage: target };
    }

    function columns() {
      const list = [
        { label: 'Tag', render: (row) => row.tag },
        {
          label: 'Digest',
          render: (row) => h('a', { href: imageHref(name, row.digest), title: row.digest, class: 'mono digest' },
            shortDigest(row.digest), h('span', { class: 'visually-hidden' }, ` (${row.digest})`)),
        },
        { label: 'Size', class: 'numeric', render: (row) => formatBytes(row.size) },
        { label: 'Platforms', render: (row) => (row.platforms?.length ? row.platforms.join(', ') : '—') },
        { label: 'Pushed', render: (row) => formatTime(row.pushedAt) },
        {
          label: 'Vulnerabilities',
          render: (row) => {
            const cell = h('div', {}, scanSummary(row.scan));
            statusCells.set(row.tag, cell);
            return cell;
          },
        },
      ];
      if (canDelete) {
        list.push({
          label: 'Actions',
          render: (row) => h('div', { class: 'tag-actions' },
            h('button', { type: 'button', class: 'button small', 'aria-label': `Delete tag ${row.tag}`, onClick: () => deleteTag(row) }, 'Delete tag'),
            h('button', { type: 'button', class: 'button small danger', 'aria-label': `Delete image ${row.tag}`, onClick: () => deleteImage(row) }, 'Delete image')),
        });
      }
      return list;
    }

    const tableHolder = h('div', {});
    const moreHolder = h('div', {});
    let moreButton = null;

    function draw() {
      statusCells.clear();
      showPullCommand(rows[0]?.tag ?? 'latest');
      if (rows.length === 0) {
        replace(panel, emptyTags());
        return;
      }
      replace(tableHolder,
        state.repository.immutableTags && hasLevel(state.level, 'read-write')
          ? h('p', { class: 'note' }, 'Tags are immutable in this repository, so tags and tagged images cannot be deleted. Turn off Immutable tags in Settings to delete them.')
          : null,
        dataTable({ caption: 'Tags', columns: columns(), rows, rowKey: (row) => row.tag }));
      if (!next) {
        moreButton = null;
        replace(moreHolder);
      } else if (!moreButton) {
        moreButton = loadMoreButton(loadNextPage);
        replace(moreHolder, moreButton);
      }
      if (!panel.contains(tableHolder)) {
        replace(panel, tableHolder, moreHolder);
      }
      watchScans();
    }

    async function loadNextPage() {
      const firstNew = rows.length;
      const result = await api.getPage(next);
      rows.push(...(result.data.tags ?? []));
      next = result.next;
      draw();
      if (!next) {
        // The button goes away, so focus moves to the first tag of the new page.
        tableHolder.querySelectorAll('tbody tr')[firstNew]?.querySelector('a')?.focus();
      }
      return Boolean(next);
    }

    function emptyTags() {
      return h('div', { class: 'empty-state' },
        h('p', {}, 'This repository has no tags yet. Tag an image and push it:'),
        commandLine(`docker push ${registryHost(view)}/${name}:latest`));
    }

    // While any scan is queued or running, the list is read again every few seconds and the vulnerability cells
    // change in place, so focus and scroll position stay where they are.
    function watchScans() {
      stopPolling();
      if (!rows.some((row) => isScanPending(row.scan?.status))) {
        return;
      }
      let stopped = false;
      const timer = setInterval(async () => {
        try {
          const { fetched } = await fetchTags(rows.length);
          if (stopped) {
            return;
          }
          const sameRows = fetched.length >= rows.length && rows.every((row, index) => fetched[index].tag === row.tag && fetched[index].digest === row.digest);
          if (!sameRows) {
            rows = fetched;
            draw();
            return;
          }
          fetched.slice(0, rows.length).forEach((row, index) => {
            rows[index] = row;
            const cell = statusCells.get(row.tag);
            if (cell) {
              replace(cell, scanSummary(row.scan));
            }
          });
          if (!rows.some((row) => isScanPending(row.scan?.status))) {
            stopPolling();
          }
        } catch {
          // A failed poll is retried at the next tick, and the table keeps the last known state.
        }
      }, scanPollMilliseconds);
      state.stopPolling = () => {
        stopped = true;
        clearInterval(timer);
      };
    }

    async function reload() {
      const count = Math.max(rows.length, 1);
      const { fetched, nextPage } = await fetchTags(count);
      rows = fetched;
      next = nextPage;
      draw();
    }

    async function deleteTag(row) {
      const confirmed = await confirmDialog({
        title: `Delete tag ${row.tag}?`,
        message: [
          `The tag ${row.tag} is removed from ${name}. The image ${shortDigest(row.digest)} and its other tags stay.`,
          'This cannot be undone.',
        ],
        confirmLabel: 'Delete',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
      try {
        await api.delete(`${basePath}/tags/${encodeURIComponent(row.tag)}`);
        toast(`Tag ${row.tag} deleted.`);
      } catch (error) {
        toast(errorMessage(error), { kind: 'error' });
      }
      await reloadOrShowError();
    }

    async function deleteImage(row) {
      const tags = await tagsOfImage(row.digest);
      const confirmed = await confirmDialog({
        title: `Delete image ${shortDigest(row.digest)}?`,
        message: [
          `The image ${row.digest} is deleted from ${name}, together with every tag that points at it:`,
          h('ul', { class: 'dialog-list' }, tags.map((tag) => h('li', {}, tag))),
          'This cannot be undone.',
        ],
        confirmLabel: 'Delete',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
      try {
        await api.delete(`${basePath}/manifests/${row.digest}`);
        toast(`Image ${shortDigest(row.digest)} deleted with ${tags.length === 1 ? 'its tag' : `its ${tags.length} tags`}.`);
      } catch (error) {
        toast(errorMessage(error), { kind: 'error' });
      }
      await reloadOrShowError();
    }

    /** Returns every tag of an image: from the image details, or from the loaded pages when those cannot be read. */
    async function tagsOfImage(digest) {
      try {
        const image = await api.get(`${basePath}/manifests/${digest}`);
        if (Array.isArray(image?.tags)) {
          return image.tags;
        }
      } catch {
        // Fall back to the tags on the loaded pages.
      }
      return rows.filter((candidate) => candidate.digest === digest).map((candidate) => candidate.tag);
    }

    async function reloadOrShowError() {
      try {
        await reload();
      } catch (error) {
        replace(panel, errorState(error, () => renderTags(panel)));
      }
      panel.focus();
    }

    replace(panel, loading('Loading tags…'));
    fetchTags(1)
      .then(({ fetched, nextPage }) => {
        rows = fetched;
        next = nextPage;
        draw();
      })
      .catch((error) => replace(panel, errorState(error, () => renderTags(panel))));
  }

  // ---- Settings ----

  function renderSettings(panel) {
    const repository = state.repository;
    const isAdmin = hasLevel(state.level, 'admin');
    if (!isAdmin) {
      replace(panel,
        h('h2', {}, 'Settings'),
        h('p', { class: 'note' }, 'Only repository administrators can change these settings.'),
        h('dl', { class: 'details' },
          h('dt', {}, 'Description'), h('dd', {}, repository.description || '—'),
          h('dt', {}, 'Visibility'), h('dd', {}, repository.visibility === 'public' ? 'Public' : 'Private'),
          h('dt', {}, 'Scan on push'), h('dd', {}, repository.scanOnPush ? 'Yes' : 'No'),
          h('dt', {}, 'Immutable tags'), h('dd', {}, repository.immutableTags ? 'Yes' : 'No')));
      return;
    }

    const description = textField('Description', { name: 'description', multiline: true, value: repository.description ?? '' });
    const visibility = selectField('Visibility', {
      name: 'visibility', options: [['private', 'Private'], ['public', 'Public']], value: repository.visibility,
      hint: 'Every signed-in user can pull a public repository.',
    });
    const scanOnPush = checkboxField('Scan on push', { name: 'scanOnPush', checked: repository.scanOnPush, hint: 'Scan each image for vulnerabilities when it is pushed.' });
    const immutableTags = checkboxField('Immutable tags', { name: 'immutableTags', checked: repository.immutableTags, hint: 'A pushed tag cannot be moved to another image or deleted.' });
    const deleteButton = h('button', { type: 'button', class: 'button danger', onClick: deleteRepository }, 'Delete repository');

    replace(panel,
      h('h2', {}, 'Settings'),
      form({
        label: 'Repository settings',
        fields: [description.field, visibility.field, scanOnPush.field, immutableTags.field],
        submitLabel: 'Save settings',
        onSubmit: async () => {
          state.repository = await api.patch(basePath, {
            description: description.input.value.trim(),
            visibility: visibility.input.value,
            scanOnPush: scanOnPush.input.checked,
            immutableTags: immutableTags.input.checked,
          });
          toast('Settings saved.');
          const summary = view.main.querySelector('.repository-summary');
          if (summary) {
            replace(summary, h('span', { class: 'badge' }, state.repository.visibility === 'public' ? 'Public' : 'Private'),
              state.repository.description ? ` ${state.repository.description}` : null);
          }
        },
      }),
      h('section', { class: 'danger-zone', 'aria-labelledby': 'danger-zone-heading' },
        h('h2', { id: 'danger-zone-heading' }, 'Danger zone'),
        h('p', {}, 'Deleting the repository removes all its tags, images and team access grants.'),
        deleteButton));
  }

  async function deleteRepository() {
    const confirmed = await confirmDialog({
      title: `Delete repository ${name}?`,
      message: [`The repository ${name} is deleted with all its tags, images and team access grants.`, 'This cannot be undone.'],
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    try {
      await api.delete(basePath);
      toast(`Repository ${name} deleted.`);
      view.navigate('repositories');
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
    }
  }

  // ---- Permissions ----

  function renderPermissions(panel) {
    loadInto(panel, async () => {
      try {
        const grants = (await api.get(`${basePath}/teamAccess`)).teamAccess ?? [];
        return { grants };
      } catch (error) {
        if (error instanceof ApiError && error.status === 403) {
          return { forbidden: true };
        }
        throw error;
      }
    }, ({ grants, forbidden }) => {
      if (forbidden) {
        return h('p', { class: 'note' }, 'Only repository administrators can change permissions.');
      }
      const organization = state.organization;
      if (!organization) {
        return [
          h('h2', {}, 'Team access'),
          h('p', {}, `${state.repository.namespace} is a user, not an organization. Team access applies to repositories of organizations: `
            + `here only ${state.repository.namespace} and system administrators have access, and every signed-in user can pull when the repository is public.`),
        ];
      }
      return permissionsView(panel, organization, grants);
    });
  }

  function permissionsView(panel, organization, grants) {
    const isAdmin = hasLevel(state.level, 'admin');
    const columns = [
      { label: 'Organization', render: (grant) => grant.organization },
      { label: 'Team', render: (grant) => h('a', { href: `organizations/${grant.organization}/teams/${grant.team}` }, grant.team) },
      { label: 'Access level', render: (grant) => accessLevelLabels[grant.accessLevel] ?? grant.accessLevel },
    ];
    if (isAdmin) {
      columns.push({
        label: 'Actions',
        render: (grant) => h('button', {
          type: 'button', class: 'button small danger', 'aria-label': `Remove access for team ${grant.team}`,
          onClick: () => removeAccess(panel, grant),
        }, 'Remove access'),
      });
    }

    return [
      h('h2', {}, 'Team access'),
      h('p', {}, `Owners of ${organization.name} and system administrators always have admin access. Members of these teams get the level shown.`),
      grants.length
        ? dataTable({ caption: 'Team access', columns, rows: grants, rowKey: (grant) => grant.team })
        : emptyState('No team has been granted access.'),
      isAdmin ? grantForm(panel, organization, grants) : h('p', { class: 'note' }, 'Only repository administrators can change permissions.'),
    ];
  }

  function grantForm(panel, organization, grants) {
    const holder = h('section', { 'aria-labelledby': 'grant-access-heading' }, h('h2', { id: 'grant-access-heading' }, 'Grant access'));
    const teamNames = organization.teams ?? [];
    if (teamNames.length === 0) {
      holder.append(h('p', {}, `The organization ${organization.name} has no teams. `,
        h('a', { href: `organizations/${organization.name}` }, `Create a team in ${organization.name}`), ' first.'));
      return holder;
    }
    const granted = new Set(grants.map((grant) => grant.team));
    const team = selectField('Team', {
      name: 'team',
      options: teamNames.map((teamName) => [teamName, granted.has(teamName) ? `${teamName} (has access)` : teamName]),
      value: teamNames.find((teamName) => !granted.has(teamName)) ?? teamNames[0],
      hint: 'Granting a team that already has access changes its level.',
    });
    const level = selectField('Access level', {
      name: 'accessLevel',
      options: Object.entries(accessLevelLabels),
      value: 'read-only',
    });
    holder.append(form({
      label: 'Grant access',
      fields: [team.field, level.field],
      submitLabel: 'Grant access',
      busyLabel: 'Granting…',
      onSubmit: async () => {
        const teamName = team.input.value;
        await api.put(`${basePath}/teamAccess/${encodeURIComponent(teamName)}`, { accessLevel: level.input.value });
        toast(`Team ${teamName} has ${accessLevelLabels[level.input.value].toLowerCase()} access to ${name}.`);
        renderPermissions(panel);
        panel.focus();
      },
    }));
    return holder;
  }

  async function removeAccess(panel, grant) {
    const confirmed = await confirmDialog({
      title: `Remove access for team ${grant.team}?`,
      message: [
        `Members of ${grant.organization}/${grant.team} lose the ${accessLevelLabels[grant.accessLevel]?.toLowerCase() ?? grant.accessLevel} access this grant gives them to ${name}.`,
        'This cannot be undone.',
      ],
      confirmLabel: 'Remove',
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    try {
      await api.delete(`${basePath}/teamAccess/${encodeURIComponent(grant.team)}`);
      toast(`Team ${grant.team} no longer has access to ${name}.`);
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
    }
    renderPermissions(panel);
    panel.focus();
  }

  return () => stopPolling();
}
