// The management API client. Every request goes to this origin with the session cookie, and every request that
// changes something carries the session's antiforgery token in the X-CSRF-Token header.

/** A failed API request: the HTTP status and the problem details the API returned. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The request failed with HTTP status ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? {};
  }

  /** Validation messages by field name, from a 400 validation problem; empty otherwise. */
  get fieldErrors() {
    return this.problem.errors ?? {};
  }
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Creates a client for the API under `prefix` (such as "/api/v0").
 * `session` supplies the antiforgery token; `onUnauthorized` runs when a request returns 401.
 */
export function createApi(prefix, session, onUnauthorized) {
  function url(path, query) {
    // Links from the API's Link headers already contain the prefix.
    const base = path.startsWith(prefix + '/') || path === prefix ? path : prefix + path;
    if (!query) {
      return base;
    }
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') {
        params.set(name, String(value));
      }
    }
    const text = params.toString();
    return text ? `${base}${base.includes('?') ? '&' : '?'}${text}` : base;
  }

  async function send(method, path, { query, body, contentType, headers = {}, signal } = {}) {
    // With X-Requested-With, the API leaves the basic challenge out of a 401, so the browser shows no sign-in dialog
    // of its own and this client moves to the sign-in page.
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest', ...headers }, signal };
    if (unsafeMethods.has(method) && session.csrfToken) {
      init.headers['X-CSRF-Token'] = session.csrfToken;
    }
    if (body !== undefined) {
      const isRaw = body instanceof Blob || body instanceof ArrayBuffer || body instanceof FormData;
      init.body = isRaw ? body : JSON.stringify(body);
      if (!(body instanceof FormData)) {
        init.headers['Content-Type'] = contentType ?? (isRaw ? 'application/octet-stream' : 'application/json');
      }
    }

    let response;
    try {
      response = await fetch(url(path, query), init);
    } catch (error) {
      if (error.name === 'AbortError') {
        throw error;
      }
      throw new ApiError(0, { title: 'Network error', detail: 'The registry could not be reached. Check your connection and try again.' });
    }

    if (response.status === 401) {
      onUnauthorized?.();
    }
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        problem = { title: response.statusText };
      }
      throw new ApiError(response.status, problem);
    }
    return response;
  }

  async function json(response) {
    if (response.status === 204 || response.headers.get('Content-Length') === '0') {
      return null;
    }
    const type = response.headers.get('Content-Type') ?? '';
    return type.includes('json') ? response.json() : response.text();
  }

  /** Returns the "next" target of a Link header, or null. */
  function nextLink(response) {
    const header = response.headers.get('Link');
    const match = header && /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
    return match ? match[1] : null;
  }

  return {
    prefix,
    /** GET a JSON document. */
    async get(path, options) {
      return json(await send('GET', path, options));
    },
    /** GET one page of a list: `{ data, next }`, where `next` is the path of the following page or null. */
    async getPage(path, options) {
      const response = await send('GET', path, options);
      return { data: await json(response), next: nextLink(response) };
    },
    async post(path, body, options) {
      return json(await send('POST', path, { ...options, body }));
    },
    async put(path, body, options) {
      return json(await send('PUT', path, { ...options, body }));
    },
    async patch(path, body, options) {
      return json(await send('PATCH', path, { ...options, body }));
    },
    async delete(path, options) {
      return json(await send('DELETE', path, options));
    },
    /** Encodes each '/'-separated part of a repository name for a URL path, keeping the slashes. */
    repositoryPath(name) {
      return name.split('/').map(encodeURIComponent).join('/');
    },
  };
}
