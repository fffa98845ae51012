// app/api.js: the client of the REST API (/api/v1, docs/rest-api.md).
// Cookie sessions: the browser sends the HttpOnly session cookie by itself;
// every write carries the CSRF token in X-CSRF-Token (from the login answer,
// or the aistudio_csrf cookie after a reload). Errors come back as ApiError
// with the server's message, code, detail and hint.

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = body && body.error ? body.error : null;
    super(e && e.message ? e.message : fallback || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = e ? e.code : null;
    this.detail = e ? e.detail : null;
    this.hint = e ? e.hint : null;
    this.retryAfter = null;
  }
}

let csrfToken = null;
let sessionLost = null;

export function setCsrf(token) { csrfToken = token || null; }
// Called with the error when a request answers 401 (the session ended).
export function onSessionLost(fn) { sessionLost = fn; }

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

function csrf() { return csrfToken || cookie('aistudio_csrf'); }

// "?a=1&b=x" from an object; undefined, null and '' are left out.
export function qs(params) {
  if (!params) return '';
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

// One request. opts.raw: return the Response as is (for streams).
export async function request(method, path, body, opts = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const t = csrf();
    if (t) headers['x-csrf-token'] = t;
  }
  if (opts.accept) headers.accept = opts.accept;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null, 'Cannot reach the server. Check your connection and try again.');
  }
  if (opts.raw && res.ok) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new ApiError(res.status, json, res.status >= 500
      ? `The server could not complete the request (HTTP ${res.status}).` : null);
    err.retryAfter = res.headers.get('retry-after');
    if (res.status === 401 && sessionLost && !path.startsWith('/auth/')) sessionLost(err);
    throw err;
  }
  return json;
}

export const api = {
  get: (path, params, opts) => request('GET', path + qs(params), undefined, opts),
  post: (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts),
  patch: (path, body) => request('PATCH', path, body),
  put: (path, body) => request('PUT', path, body),
  del: (path) => request('DELETE', path),
};

// Every row of a list endpoint (for pickers), up to max rows.
export async function listAll(path, params = {}, max = 5000) {
  const out = [];
  for (let page = 1; out.length < max; page++) {
    const r = await api.get(path, { ...params, page, page_size: 1000 });
    out.push(...r.data);
    if (out.length >= r.total || r.data.length === 0) break;
  }
  return out;
}

// Attaches a filter or plugin (kind: 'filters' | 'plugins') to LLMs and
// detaches it so that exactly the LLMs `want` hold it (`have`: before);
// `extra` goes with each new attachment (a plugin's fail_open).
export async function syncLlmAttachments(kind, itemId, have, want, extra = {}) {
  const key = kind === 'filters' ? 'filter_id' : 'plugin_id';
  for (const id of want.filter((x) => !have.includes(x))) await api.post(`/llms/${id}/${kind}`, { [key]: itemId, ...extra });
  for (const id of have.filter((x) => !want.includes(x))) await api.del(`/llms/${id}/${kind}/${itemId}`);
}

// A plain-language account of an error, for banners and toasts.
export function describeError(err) {
  if (!err) return null;
  if (!(err instanceof ApiError)) return { message: err.message || String(err) };
  let message = err.message;
  if (err.code === 'csrf_failed') message = 'Your security token is missing or out of date. Reload the page and try again.';
  else if (err.status === 403 && err.code === '42501') message = `Not allowed: ${err.message}`;
  else if (err.status === 429 && err.retryAfter) message = `${err.message} Try again in ${Math.ceil(Number(err.retryAfter) / 60)} min.`;
  return { message, detail: err.detail || null, hint: err.hint || null, code: err.code, status: err.status };
}
