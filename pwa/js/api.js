// fetch with the session cookie and CSRF header; every failure becomes an ApiError.
let csrf = null;
let onRevoked = null;
let revoking = false;

export function setCsrf(token) { csrf = token; }
export function hasCsrf() { return Boolean(csrf); }

/** Call `fn` when any answer says this device was revoked (410 device_revoked): the phone must be
 *  wiped, whichever request found out (a login, a sync, a lapsed session's reconnect). */
export function whenRevoked(fn) { onRevoked = fn; }

async function revoked() {
  // The wipe's own request (ending the session) is answered the same way: no second wipe.
  if (revoking || !onRevoked) return;
  revoking = true;
  try { await onRevoked(); } finally { revoking = false; }
}

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.fields = fields || null;
  }

  /** Network errors, 5xx and 429 are worth retrying later; other answers are final. */
  get retryable() { return this.status === 0 || this.status >= 500 || this.status === 429; }
}

/** The error for a refused answer; a revoked device is wiped first. */
async function refusal(status, data) {
  const err = (data && data.error) || {};
  if (status === 410 && err.code === 'device_revoked') await revoked();
  return new ApiError(status, err.code || `http_${status}`, err.message || `服务器错误 ${status}`, err.fields);
}

// On a weak signal a request can hang without ever failing, and a sync holds its lock meanwhile:
// it is given up after this long (ms) and retried like any network failure. Long enough for a full
// batch or pull page (about 1 MB) at 5 KB/s, as on GPRS; photos and exports get longer.
export const TIMEOUTS = { json: 300000, bytes: 900000 };

/** Fetch and read the answer with `read(res)`, both within `ms`; a request that runs over is aborted. */
async function fetchWithin(ms, path, options, read) {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  try {
    const res = await fetch(path, { ...options, signal: stop.signal });
    return { res, data: await read(res) };
  } finally {
    clearTimeout(timer);
  }
}

// An answer that is not JSON reads as null; one cut off by the timeout fails as the request does.
const readJson = (res) => (res.status === 204 ? null
  : res.json().catch((e) => { if (e.name === 'AbortError') throw e; return null; }));

/** Send JSON, or raw bytes (an ArrayBuffer or Blob, e.g. a photo) with `extra` headers. */
export async function call(method, path, body, extra = {}) {
  const raw = body instanceof ArrayBuffer || body instanceof Blob;
  const headers = { Accept: 'application/json', ...extra };
  if (body !== undefined) headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  let data = null;
  try {
    ({ res, data } = await fetchWithin(raw ? TIMEOUTS.bytes : TIMEOUTS.json, path, { method, headers,
      credentials: 'same-origin', cache: 'no-store', body: body === undefined || raw ? body : JSON.stringify(body) },
    readJson));
  } catch (e) {
    throw new ApiError(0, 'network', '网络不可用，稍后自动重试');
  }
  if (!res.ok) throw await refusal(res.status, data);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);
export const patch = (path, body, version) => call('PATCH', path, body,
  version === undefined ? undefined : { 'If-Match': String(version) });

/** Fetch a file the API builds (a ledger export): its bytes and the name the server gave it. */
export async function download(path) {
  let res;
  let data;
  try {
    ({ res, data } = await fetchWithin(TIMEOUTS.bytes, path, { credentials: 'same-origin', cache: 'no-store' },
      (answer) => (answer.ok ? answer.blob() : readJson(answer))));
  } catch (e) {
    throw new ApiError(0, 'network', '网络不可用，请联网后再导出');
  }
  if (!res.ok) throw await refusal(res.status, data);
  const disposition = res.headers.get('Content-Disposition') || '';
  const named = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  return { blob: data, filename: named ? decodeURIComponent(named[1]) : 'ledger' };
}
