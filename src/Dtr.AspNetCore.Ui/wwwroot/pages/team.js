// A team's page: its members, with the form and buttons that change them for the organization's owners and system
// administrators.

import { h, replace } from '../dom.js';
import { confirmDialog, dataTable, emptyState, errorMessage, form, loadInto, pageHeader, textField, toast } from '../components.js';
import { formatTime } from '../format.js';

export default async function render(view) {
  const { org, team } = view.params;
  const orgPath = `/organizations/${encodeURIComponent(org)}`;
  const teamPath = `${orgPath}/teams/${encodeURIComponent(team)}`;
  view.setTitle(`${team} · ${org}`);

  const body = h('div', {});
  replace(view.main,
    pageHeader(team, { breadcrumbs: [['Organizations', 'organizations'], [org, `organizations/${encodeURIComponent(org)}`], [team, null]] }),
    body);

  // The organization's owner list tells whether the caller may change the members, so the page hides what the API
  // would reject with 403.
  const load = async () => {
    const [teamDocument, organization] = await Promise.all([view.api.get(teamPath), view.api.get(orgPath)]);
    return { team: teamDocument, organization };
  };

  await loadInto(body, load, (data) => {
    const session = view.session;
    const manage = Boolean(session?.isAdmin || (session?.userName && data.organization.owners.includes(session.userName)));
    const membersHeading = h('h2', { tabIndex: -1 }, 'Members');
    const members = h('div', {}, membersView(data.team.members));

    function membersView(names) {
      if (names.length === 0) {
        return emptyState('This team has no members.');
      }
      const columns = [{ label: 'User name', render: (user) => user }];
      if (manage) {
        columns.push({
          label: 'Actions',
          render: (user) => h('button', {
            type: 'button', class: 'button small danger', 'aria-label': `Remove member ${user}`,
            onClick: () => removeMember(user),
          }, 'Remove member'),
        });
      }
      return dataTable({ caption: 'Members', columns, rows: names, rowKey: (user) => user });
    }

    async function reloadMembers() {
      await loadInto(members, () => view.api.get(teamPath), (reloaded) => membersView(reloaded.members));
      // The button that started the change may be gone, so focus moves to the list's heading.
      membersHeading.focus();
    }

    async function removeMember(user) {
      const confirmed = await confirmDialog({
        title: `Remove member ${user}?`,
        message: [`${user} loses the repository access that the team ${org}/${team} grants.`, 'This cannot be undone, but an owner can add the user again.'],
        confirmLabel: 'Remove member',
        danger: true,
      });
      if (!confirmed) {
        return;
      }
      try {
        await view.api.delete(`${teamPath}/members/${encodeURIComponent(user)}`);
        toast(`Removed ${user} from ${team}.`);
      } catch (error) {
        toast(errorMessage(error), { kind: 'error' });
      }
      await reloadMembers();
    }

    let addForm = h('p', { class: 'muted' }, `Only owners of ${org} and system administrators change the members of its teams.`);
    if (manage) {
      const userName = textField('User name', { name: 'user', required: true, autocomplete: 'off' });
      addForm = h('section', { class: 'card', 'aria-labelledby': 'add-member-heading' },
        h('h3', { id: 'add-member-heading' }, 'Add a member'),
        form({
          label: 'Add a member',
          fields: [userName.field],
          submitLabel: 'Add member',
          busyLabel: 'Adding…',
          onSubmit: async () => {
            const user = userName.input.value.trim();
            await view.api.put(`${teamPath}/members/${encodeURIComponent(user)}`);
            toast(`Added ${user} to ${team}.`);
            userName.input.value = '';
            await reloadMembers();
            userName.input.focus();
          },
        }));
    }

    return h('div', {},
      h('p', { class: 'muted' }, `Team of ${org}, created ${formatTime(data.team.createdAt)}. Repository administrators grant teams access on each repository's page.`),
      membersHeading,
      members,
      addForm);
  });
}
