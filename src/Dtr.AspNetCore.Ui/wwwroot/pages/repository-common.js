// Helpers shared by the repository and image pages: the caller's access level, the registry host for commands,
// scan status text and links between the pages. This module is not a route of its own.

import { h } from '../dom.js';
import { ApiError } from '../api.js';
import { copyButton, severityCounts } from '../components.js';

/** Access levels as the API spells them, lowest first. */
const levels = ['none', 'read-only', 'read-write', 'admin'];

/** Returns whether `level` is at least `required`, both given as API access level names. */
export function hasLevel(level, required) {
  return levels.indexOf(level) >= levels.indexOf(required);
}

/** Returns the repository name split into its namespace and the name inside it, or null without a '/'. */
export function splitName(name) {
  const slash = name.indexOf('/');
  return slash < 0 ? null : { namespace: name.slice(0, slash), repo: name.slice(slash + 1) };
}

/** Returns the API path of a repository, such as "/repositories/acme/tools/web". */
export function repositoryApiPath(api, name) {
  return `/repositories/${api.repositoryPath(name)}`;
}

/** Returns the interface path of an image page. */
export function imageHref(name, digest) {
  return `repositories/${name}/-/images/${digest}`;
}

/** Returns the host:port that registry clients use, for the pull and push commands. */
export function registryHost(view) {
  return view.config.registryHost ?? location.host;
}

/** Creates a command in a code element with a Copy button labelled for it. */
export function commandLine(text, label = 'Copy command') {
  return h('div', { class: 'command' }, h('code', {}, text), copyButton(text, label));
}

/**
 * Returns the organization of a namespace, or null when the namespace is a user. The signed-in user's own namespace
 * is known to be a user's, so it costs no request.
 */
export async function readOrganization(api, namespace, session = null) {
  if (session?.userName && session.userName.toLowerCase() === namespace.toLowerCase()) {
    return null;
  }
  try {
    return await api.get(`/organizations/${encodeURIComponent(namespace)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return null;
    }
    throw error;
  }
}

/**
 * Computes the caller's access level on a repository with the rules the registry applies. System administrators and
 * the namespace's owners are admins, others get the highest level of their teams' grants, and every signed-in user
 * may pull a public repository. The level only decides which actions the page offers, because the API checks every
 * change itself.
 */
export async function readAccessLevel(api, session, repository, organization) {
  if (session?.isAdmin) {
    return 'admin';
  }
  const user = session?.userName;
  if (user && user === repository.namespace) {
    return 'admin';
  }
  let level = repository.visibility === 'public' ? 'read-only' : 'none';
  if (!user || !organization) {
    return level;
  }
  if (organization.owners?.includes(user)) {
    return 'admin';
  }

  let grants = [];
  try {
    grants = (await api.get(`${repositoryApiPath(api, repository.name)}/teamAccess`)).teamAccess ?? [];
  } catch {
    // The page still works with the public level, because the API checks every change anyway.
    return level;
  }
  const teams = await Promise.all(grants.map((grant) => api
    .get(`/organizations/${encodeURIComponent(grant.organization)}/teams/${encodeURIComponent(grant.team)}`)
    .then((team) => ({ grant, members: team.members ?? [] }))
    .catch(() => ({ grant, members: [] }))));
  for (const { grant, members } of teams) {
    if (members.includes(user) && hasLevel(grant.accessLevel, level)) {
      level = grant.accessLevel;
    }
  }
  return level;
}

/** Returns whether an API scan status means that the scan is queued or running. */
export function isScanPending(status) {
  return status === 'queued';
}

/** Creates the vulnerability summary of a tag or image scan: counts by severity, or the state of the scan. */
export function scanSummary(scan) {
  if (!scan || scan.status === 'notScanned') {
    return h('span', { class: 'muted' }, 'Not scanned');
  }
  if (isScanPending(scan.status)) {
    return h('span', { class: 'scan-pending' }, 'Scanning…');
  }
  if (scan.status === 'failed') {
    return h('span', { class: 'scan-failed' }, 'Scan failed');
  }
  return h('div', { class: 'scan-summary' },
    severityCounts(scan.summary),
    scan.status === 'partial' ? h('span', { class: 'muted' }, 'Partial scan') : null);
}

/** Returns an image's platform as "os/architecture[/variant]", or null. */
export function platformText(platform) {
  if (!platform?.os) {
    return null;
  }
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
