// An image (or image index) of a repository: its details and layers, its scan status, vulnerabilities and packages.

import { h, replace } from '../dom.js';
import {
  dataTable, emptyState, errorMessage, errorState, loadInto, loading, pageHeader, selectField, severityCounts, toast,
} from '../components.js';
import { formatBytes, formatTime, severityLabel, shortDigest } from '../format.js';
import {
  hasLevel, imageHref, isScanPending, platformText, readAccessLevel, readOrganization, repositoryApiPath, scanSummary, splitName,
} from './repository-common.js';

const scanPollMilliseconds = 2000;

// The OCI digest grammar: algorithm ":" encoded.
const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const minimumSeverityOptions = [['', 'All'], ['critical', 'Critical'], ['high', 'High'], ['medium', 'Medium'], ['low', 'Low']];

const scanStatusLabels = {
  completed: 'Completed',
  partial: 'Partial: some layers could not be read completely',
  failed: 'Failed',
  queued: 'Queued or running',
  notScanned: 'Not scanned',
};

/** Returns the first http(s) reference of a vulnerability, preferring one that contains its id, or null. */
function advisoryUrl(vulnerability) {
  const links = (vulnerability.references ?? []).filter((reference) => {
    try {
      return ['https:', 'http:'].includes(new URL(reference).protocol);
    } catch {
      return false;
    }
  });
  return links.find((link) => link.includes(vulnerability.id)) ?? links[0] ?? null;
}

/** Returns whether a media type is an OCI image index or a Docker manifest list. */
function isIndexMediaType(mediaType) {
  return /image\.index|manifest\.list/.test(mediaType ?? '');
}

/** Returns a label for a child of an index: its platform, or "Attestation" for the unknown/unknown entries of build tools. */
function childLabel(child) {
  if (child.platform?.os === 'unknown' && child.platform?.architecture === 'unknown') {
    return `Attestation (${shortDigest(child.digest)})`;
  }
  return platformText(child.platform) ?? child.mediaType ?? 'Manifest';
}

export default async function render(view) {
  const { api } = view;
  const { name, digest } = view.params;
  const short = shortDigest(digest);
  view.setTitle(`${name}@${short}`);

  const header = pageHeader(`${name}@${short}`, {
    breadcrumbs: [['Repositories', 'repositories'], [name, `repositories/${name}`], [short]],
  });
  if (!splitName(name) || !digestPattern.test(digest)) {
    replace(view.main, header, errorState(new Error(`"${name}@${digest}" is not an image reference: use namespace/name and a digest such as sha256:….`)));
    return undefined;
  }

  const basePath = repositoryApiPath(api, name);
  const manifestPath = `${basePath}/manifests/${digest}`;
  const detailsSection = h('section', { 'aria-labelledby': 'image-details-heading' }, h('h2', { id: 'image-details-heading' }, 'Details'));
  const detailsBody = h('div', {});
  const scanSection = h('div', {});
  detailsSection.append(detailsBody);
  replace(view.main, header, detailsSection, scanSection);

  let minimumSeverity = minimumSeverityOptions.some(([value]) => value === view.query.get('severity')) ? view.query.get('severity') : '';
  let stopPolling = null;
  let layerNumbers = new Map();

  // The caller's level decides whether "Scan now" shows. While it cannot be read, read-only is assumed.
  const levelPromise = api.get(basePath)
    .then(async (repository) => readAccessLevel(api, view.session, repository, await readOrganization(api, repository.namespace, view.session).catch(() => null)))
    .catch(() => 'read-only');

  // ---- Details and layers ----

  function renderDetails(image) {
    const platform = platformText(image.platform);
    const tags = image.tags ?? [];
    const items = [
      ['Digest', h('code', {}, image.digest ?? digest)],
      ['Media type', h('code', {}, image.mediaType ?? '—')],
      ['Size', formatBytes(image.size)],
      platform ? ['Platform', platform] : null,
      image.created ?? image.createdAt ? ['Created', formatTime(image.created ?? image.createdAt)] : null,
      image.configDigest ? ['Config', h('code', {}, image.configDigest)] : null,
      ['Tags', tags.length ? h('ul', { class: 'inline-list' }, tags.map((tag) => h('li', {}, tag))) : 'None'],
    ].filter(Boolean);

    const parts = [h('dl', { class: 'details' }, items.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]))];
    if (isIndexMediaType(image.mediaType)) {
      parts.push(
        h('h2', {}, 'Platforms'),
        image.manifests.length
          ? h('ul', { class: 'platform-list' }, image.manifests.map((child) => h('li', {},
            h('a', { href: imageHref(name, child.digest) }, childLabel(child)),
            ' ', h('span', { class: 'mono muted' }, shortDigest(child.digest)), ' ', h('span', { class: 'muted' }, formatBytes(child.size)))))
          : emptyState('This index lists no manifests.'));
    }
    if (!isIndexMediaType(image.mediaType)) {
      parts.push(h('h2', {}, 'Layers'), layersTable(image.layers ?? []));
    }
    return parts;
  }

  function layersTable(layers) {
    if (layers.length === 0) {
      return emptyState('This image has no layers.');
    }
    const hasCommands = layers.some((layer) => layer.createdBy ?? layer.command);
    const columns = [
      { label: '#', class: 'numeric', render: (layer) => String(layers.indexOf(layer) + 1) },
      { label: 'Digest', render: (layer) => h('span', { class: 'mono digest', title: layer.digest }, shortDigest(layer.digest), h('span', { class: 'visually-hidden' }, ` (${layer.digest})`)) },
      { label: 'Size', class: 'numeric', render: (layer) => formatBytes(layer.size) },
    ];
    if (hasCommands) {
      columns.push({ label: 'Command', render: (layer) => h('code', { class: 'layer-command' }, layer.createdBy ?? layer.command ?? '') });
    }
    return dataTable({ caption: 'Layers', columns, rows: layers });
  }

  // ---- Scan, vulnerabilities and packages ----

  function scanStatusLine(scan) {
    const parts = [`Scan status: ${scanStatusLabels[scan.status] ?? scan.status}.`];
    if (scan.scannedAt) {
      parts.push(` Scanned ${formatTime(scan.scannedAt)}`);
      parts.push(scan.databaseVersion != null ? ` with vulnerability database version ${scan.databaseVersion}.` : '.');
    }
    return h('p', { class: 'scan-status', role: 'status' }, parts.join(''), scan.error ? h('span', { class: 'scan-error' }, ` ${scan.error}`) : null);
  }

  function layerLabel(layerDigest) {
    const number = layerNumbers.get(layerDigest);
    return h('span', { title: layerDigest }, number ? `Layer ${number}` : shortDigest(layerDigest));
  }

  function vulnerabilityTable(vulnerabilities) {
    if (vulnerabilities.length === 0) {
      return emptyState(minimumSeverity ? `No vulnerabilities at ${severityLabel(minimumSeverity).toLowerCase()} severity or above.` : 'No known vulnerabilities.');
    }
    return dataTable({
      caption: 'Vulnerabilities',
      rowKey: (vulnerability) => `${vulnerability.id} ${vulnerability.package} ${vulnerability.installedVersion}`,
      rows: vulnerabilities,
      columns: [
        {
          label: 'ID',
          render: (vulnerability) => {
            const url = advisoryUrl(vulnerability);
            return [
              url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, vulnerability.id) : vulnerability.id,
              vulnerability.summary ? h('span', { class: 'vulnerability-summary' }, vulnerability.summary) : null,
            ];
          },
        },
        {
          label: 'Severity',
          render: (vulnerability) => h('span', { class: `severity ${vulnerability.severity ?? 'unknown'}` },
            severityLabel(vulnerability.severity), vulnerability.score != null ? ` ${vulnerability.score}` : ''),
        },
        { label: 'Package', render: (vulnerability) => vulnerability.package },
        { label: 'Installed version', render: (vulnerability) => h('span', { class: 'mono' }, vulnerability.installedVersion ?? '—') },
        { label: 'Fixed version', render: (vulnerability) => (vulnerability.fixedVersion ? h('span', { class: 'mono' }, vulnerability.fixedVersion) : h('span', { class: 'muted' }, 'No fix')) },
        { label: 'Layer', render: (vulnerability) => layerLabel(vulnerability.layer) },
      ],
    });
  }

  function packageTable(packages) {
    if (packages.length === 0) {
      return emptyState('The scan found no installed packages.');
    }
    return dataTable({
      caption: 'Packages',
      rowKey: (item) => `${item.type} ${item.name} ${item.version} ${item.layer}`,
      rows: packages,
      columns: [
        { label: 'Name', render: (item) => item.name },
        { label: 'Version', render: (item) => h('span', { class: 'mono' }, item.version ?? '—') },
        { label: 'Type', render: (item) => item.type },
        { label: 'Layer', render: (item) => layerLabel(item.layer) },
      ],
    });
  }

  function platformScans(platforms) {
    if (platforms.length === 0) {
      return emptyState('This index lists no images that can be scanned.');
    }
    return dataTable({
      caption: 'Scans by platform',
      rowKey: (entry) => entry.digest,
      rows: platforms,
      columns: [
        { label: 'Platform', render: (entry) => h('a', { href: imageHref(name, entry.digest) }, platformText(entry.platform) ?? shortDigest(entry.digest)) },
        { label: 'Status', render: (entry) => scanStatusLabels[entry.status] ?? entry.status },
        { label: 'Vulnerabilities', render: (entry) => scanSummary(entry) },
      ],
    });
  }

  async function readScan() {
    return api.get(`${manifestPath}/scan`, { query: { severity: minimumSeverity } });
  }

  function renderScan(scan, level) {
    layerNumbers = new Map((scan.layers ?? []).map((layer, index) => [layer.digest, index + 1]));
    const isIndex = Array.isArray(scan.platforms);
    const pending = isScanPending(scan.status);
    const scanButton = hasLevel(level, 'read-write')
      ? h('button', { type: 'button', class: 'button', disabled: pending, onClick: () => startScan(scanButton) }, pending ? 'Scanning…' : 'Scan now')
      : null;

    const vulnerabilitySection = h('section', { 'aria-labelledby': 'vulnerabilities-heading' },
      h('h2', { id: 'vulnerabilities-heading' }, 'Vulnerabilities'),
      h('div', { class: 'scan-bar' }, scanStatusLine(scan), scanButton),
      scan.summary ? severityCounts(scan.summary) : null);

    if (isIndex) {
      vulnerabilitySection.append(
        h('p', { class: 'hint' }, 'The counts above are the highest of any platform. Open a platform for its vulnerabilities and packages.'),
        platformScans(scan.platforms));
      replace(scanSection, vulnerabilitySection);
    } else {
      const vulnerabilityHolder = h('div', {}, vulnerabilityTable(scan.vulnerabilities ?? []));
      const minimum = selectField('Minimum severity', { name: 'severity', options: minimumSeverityOptions, value: minimumSeverity });
      minimum.input.addEventListener('change', () => {
        minimumSeverity = minimum.input.value;
        view.setQuery({ severity: minimumSeverity });
        loadInto(vulnerabilityHolder, readScan, (filtered) => vulnerabilityTable(filtered.vulnerabilities ?? []));
      });
      const showsFindings = scan.status !== 'notScanned' && !(pending && !scan.scannedAt);
      if (showsFindings) {
        vulnerabilitySection.append(h('div', { class: 'toolbar severity-filter' }, minimum.field), vulnerabilityHolder);
      }
      replace(scanSection,
        vulnerabilitySection,
        showsFindings
          ? h('section', { 'aria-labelledby': 'packages-heading' }, h('h2', { id: 'packages-heading' }, 'Packages'), packageTable(scan.packages ?? []))
          : null);
    }

    if (pending) {
      watchScan(level);
    }
  }

  async function startScan(button) {
    button.disabled = true;
    button.textContent = 'Scanning…';
    try {
      await api.post(`${manifestPath}/scan`);
      toast('Scan queued.');
      const level = await levelPromise;
      renderScan(await readScan(), level);
      scanSection.querySelector('.scan-status')?.setAttribute('tabindex', '-1');
      scanSection.querySelector('.scan-status')?.focus();
    } catch (error) {
      toast(errorMessage(error), { kind: 'error' });
      button.disabled = false;
      button.textContent = 'Scan now';
    }
  }

  // Reads the scan every few seconds until it is no longer queued or running, then draws the result.
  function watchScan(level) {
    stopPolling?.();
    let stopped = false;
    const timer = setInterval(async () => {
      try {
        const scan = await readScan();
        if (stopped || isScanPending(scan.status)) {
          return;
        }
        stopPolling();
        renderScan(scan, level);
        toast(`Scan ${scanStatusLabels[scan.status]?.toLowerCase() ?? scan.status}.`, { kind: scan.status === 'failed' ? 'error' : 'success' });
      } catch {
        // A failed read is retried at the next tick, and the page keeps showing "Scanning…".
      }
    }, scanPollMilliseconds);
    stopPolling = () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  async function loadScan() {
    replace(scanSection, loading('Loading the scan…'));
    try {
      const [scan, level] = await Promise.all([readScan(), levelPromise]);
      renderScan(scan, level);
    } catch (error) {
      replace(scanSection, errorState(error, loadScan));
    }
  }

  await Promise.all([loadInto(detailsBody, () => api.get(manifestPath), renderDetails), loadScan()]);

  return () => stopPolling?.();
}
