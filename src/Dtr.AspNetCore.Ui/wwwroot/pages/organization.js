// An organization's page: its teams, its owners and its repositories, one tab each (?tab=teams|owners|repositories).
// Owners of the organization and system administrators also see the forms and buttons that change teams and owners.

import { h, replace } from '../dom.js';
import {
  confirmDialog, dataTable, emptyState, errorMessage, errorState, form, loadInto, loading, pageHeader, tabs, textField, toast,
} from '../components.js';
import { formatTime } from '../format.js';

const tabItems = [
  { id: 'teams', label: 'Teams' },
  { id: 'owners', label: 'Owners' },
  { id: 'repositories', label: 'Repositories' },
];

/** How many repositories the Repositories tab lists before it links to the full, searchable list. */
const repositoryPreviewCount = 10;

export default async function render(view) {
  const name = view.params.org;
  const orgPath = `/organizations/${encodeURIComponent(name)}`;
  view.setTitle(name);

  const body = h('div', {});
  replace(view.main,
    pageHeader(name, { breadcrumbs: [['Organizations', 'organizations'], [name, null]] }),
    body);

  await loadInto(body, () => view.api.get(orgPath), (organization) => {
    const state = { organization };
    const selected = tabItems.some((item) => item.id === view.query.get('tab')) ? view.query.get('tab') : 'teams';
    const tabView = tabs({
      label: `Organization ${name}`,
      tabs: tabItems,
      selected,
      onSelect: (id, panel, fromUser) => {
        if (fromUser) {
          view.setQuery({ tab: id === 'teams' ? null : id });
        }
        renderTab(id, panel);
      },
    });
    return h('div', {}, h('p', { class: 'muted' }, `Created ${formatTime(organization.createdAt)}`), tabView.element);

    function canManage() {
      const session = view.session;
      return Boolean(session?.isAdmin || (session?.userName && state.organization.owners.includes(session.userName)));
    }

    /** Reads the organization again, so the owner and team lists show the stored state after a change. */
    async function reload() {
      state.organization = await view.api.get(orgPath);
    }

    function renderTab(id, panel) {
      if (id === 'owners') {
        renderOwners(panel);
      } else if (id === 'repositories') {
        renderRepositories(panel);
      } else {
        renderTeams(panel);
      }
    }

    // ----- Teams -----

    function renderTeams(panel) {
      const list = h('div', {});
      const newTeam = canManage() ? teamForm(panel) : h('p', { class: 'muted' }, 'Only owners of this organization and system administrators change its teams.');
      replace(panel, h('h2', {}, 'Teams'), list, newTeam);
      loadInto(list, loadTeams, (teams) => teamTable(teams, panel));
    }

    /** Reads each team for its member count. A team that fails to load shows no count instead of failing the list. */
    async function loadTeams() {
      const names = state.organization.teams;
      const results = await Promise.allSettled(names.map((team) =>
        view.api.get(`${orgPath}/teams/${encodeURIComponent(team)}`)));
      return names.map((team, index) => ({
        name: team,
        members: results[index].status === 'fulfilled' ? results[index].value.members.length : null,
      }));
    }

    function teamTable(teams, panel) {
      if (teams.length === 0) {
        return emptyState('This organization has no teams.');
      }
      const columns = [
        { label: 'Name', render: (team) => h('a', { href: `organizations/${encodeURIComponent(name)}/teams/${encodeURIComponent(team.name)}` }, team.name) },
        { label: 'Members', class: 'numeric', render: (team) => (team.members === null ? '—' : String(team.members)) },
      ];
      if (canManage()) {
        columns.push({
          label: 'Actions',
          render: (team) => h('button', {
            type: 'button', class: 'button small danger', 'aria-label': `Delete team ${team.name}`,
            onClick: () => deleteTeam(team.name, panel),
          }, 'Delete team'),
        });
      }
      return dataTable({ caption: 'Teams', columns, rows: teams, rowKey: (team) => team.name });
    }

    function teamForm(panel) {
      const teamName = textField('Team name', {
        name: 'name', required: true, autocomplete: 'off',
        hint: 'Lowercase letters and digits, optionally joined by ".", "_" or "-"; at most 64 characters.',
      });
      return h('section', { class: 'card', 'aria-labelledby': 'new-team-heading' },
        h('h3', { id: 'new-team-heading' }, 'New team'),
        form({
          label: 'New team',
          fields: [teamName.field],
          submitLabel: 'Create team',
          busyLabel: 'Creating…',
          onSubmit: async () => {
            const created = await view.api.post(`${orgPath}/teams`, { name: teamName.input.value.trim() });
            toast(`Created team ${created.name}.`);
            await reload();
            renderTeams(panel);
            panel.querySelector('input[name="name"]')?.focus();
          },
        }));
    }

    async function deleteTeam(team, panel) {
      const confirmed = await confirmDialog({
        title: `Delete team ${team}?`,
        message: [
          `The team ${team} is deleted with its memberships and its access to the repositories of ${name}.`,
          'This cannot be undone.',
        ],
        confirmLabel: 'Delete team',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
      try {
        await view.api.delete(`${orgPath}/teams/${encodeURIComponent(team)}`);
        toast(`Deleted team ${team}.`);
      } catch (error) {
        toast(errorMessage(error), { kind: 'error' });
      }
      await refreshPanel(panel, renderTeams);
    }

    // ----- Owners -----

    function renderOwners(panel) {
      const owners = state.organization.owners;
      const manage = canManage();
      const list = owners.length === 0
        ? emptyState('This organization has no owners. A system administrator can add one.')
        : h('ul', { class: 'member-list', 'aria-label': 'Owners' }, owners.map((owner) => h('li', {},
          h('span', { class: 'member-name' }, owner, owner === view.session?.userName ? h('span', { class: 'muted' }, ' (you)') : null),
          manage
            ? h('button', {
              type: 'button', class: 'button small danger', 'aria-label': `Remove owner ${owner}`,
              onClick: () => removeOwner(owner, panel),
            }, 'Remove owner')
            : null)));
      replace(panel,
        h('h2', {}, 'Owners'),
        h('p', { class: 'muted' }, 'Owners create and delete teams, change their members and administer every repository of the organization.'),
        list,
        manage ? ownerForm(panel) : h('p', { class: 'muted' }, 'Only owners of this organization and system administrators change its owners.'));
    }

    function ownerForm(panel) {
      const userName = textField('User name', { name: 'user', required: true, autocomplete: 'off' });
      return h('section', { class: 'card', 'aria-labelledby': 'add-owner-heading' },
        h('h3', { id: 'add-owner-heading' }, 'Add an owner'),
        form({
          label: 'Add an owner',
          fields: [userName.field],
          submitLabel: 'Add owner',
          busyLabel: 'Adding…',
          onSubmit: async () => {
            const user = userName.input.value.trim();
            await view.api.put(`${orgPath}/owners/${encodeURIComponent(user)}`);
            toast(`${user} is now an owner of ${name}.`);
            await reload();
            renderOwners(panel);
            panel.querySelector('input[name="user"]')?.focus();
          },
        }));
    }

    async function removeOwner(owner, panel) {
      const self = owner === view.session?.userName;
      const confirmed = await confirmDialog({
        title: `Remove owner ${owner}?`,
        message: [
          `${owner} will no longer own ${name}.`,
          self && !view.session?.isAdmin ? 'You are removing yourself: you can no longer change this organization afterwards.' : null,
          'This cannot be undone, but an owner or administrator can add the user again.',
        ].filter(Boolean),
        confirmLabel: 'Remove owner',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
      try {
        await view.api.delete(`${orgPath}/owners/${encodeURIComponent(owner)}`);
        toast(`Removed owner ${owner}.`);
      } catch (error) {
        toast(errorMessage(error), { kind: 'error' });
      }
      await refreshPanel(panel, renderOwners);
    }

    // ----- Repositories -----

    function renderRepositories(panel) {
      const list = h('div', {});
      const allLink = h('a', { href: `repositories?namespace=${encodeURIComponent(name)}` }, `All repositories of ${name}`);
      replace(panel, h('h2', {}, 'Repositories'), h('p', {}, allLink), list);
      loadInto(list,
        () => view.api.getPage(`/repositories/${encodeURIComponent(name)}`, { query: { n: repositoryPreviewCount } }),
        (page) => {
          const repositories = page.data.repositories;
          if (repositories.length === 0) {
            return emptyState('No repositories that you may pull are in this organization.');
          }
          return h('div', {},
            h('ul', { class: 'repository-list', 'aria-label': `Repositories of ${name}` }, repositories.map((repository) => h('li', {},
              h('a', { href: `repositories/${repository.name.split('/').map(encodeURIComponent).join('/')}` }, repository.name),
              ' ', h('span', { class: 'badge' }, repository.visibility === 'public' ? 'Public' : 'Private'),
              typeof repository.tagCount === 'number'
                ? h('span', { class: 'muted' }, repository.tagCount === 1 ? '1 tag' : `${repository.tagCount} tags`)
                : null,
              repository.description ? h('span', { class: 'muted' }, ` ${repository.description}`) : null))),
            page.next ? h('p', {}, h('a', { href: `repositories?namespace=${encodeURIComponent(name)}` }, 'Show all')) : null);
        });
    }

    /**
     * Re-reads the organization after a change and redraws the panel, or shows why the read failed. Focus moves to
     * the panel, because the button that started the change is gone.
     */
    async function refreshPanel(panel, draw) {
      replace(panel, loading());
      try {
        await reload();
        draw(panel);
        panel.focus();
      } catch (error) {
        replace(panel, errorState(error, () => refreshPanel(panel, draw)));
      }
    }
  });
}
