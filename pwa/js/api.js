// fetch with the session cookie and CSRF header; every failure becomes an ApiError.
let csrf = null;

export function setCsrf(token) { csrf = token; }
export function hasCsrf() { return Boolean(csrf); }

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

/** Send JSON, or raw bytes (an ArrayBuffer or Blob, e.g. a photo) with `extra` headers. */
export async function call(method, path, body, extra = {}) {
  const raw = body instanceof ArrayBuffer || body instanceof Blob;
  const headers = { Accept: 'application/json', ...extra };
  if (body !== undefined) headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  let data = null;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined || raw ? body : JSON.stringify(body) });
    if (res.status !== 204) data = await res.json().catch(() => null);
  } catch (e) {
    throw new ApiError(0, 'network', '网络不可用，稍后自动重试');
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || `服务器错误 ${res.status}`,
      err.fields);
  }
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);
export const patch = (path, body, version) => call('PATCH', path, body,
  version === undefined ? undefined : { 'If-Match': String(version) });

/** Fetch a file the API builds (a ledger export): its bytes and the name the server gave it. */
export async function download(path) {
  let res;
  try {
    res = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', '网络不可用，请联网后再导出');
  }
  if (!res.ok) {
    const err = ((await res.json().catch(() => null)) || {}).error || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || `服务器错误 ${res.status}`, err.fields);
  }
  const disposition = res.headers.get('Content-Disposition') || '';
  const named = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  return { blob: await res.blob(), filename: named ? decodeURIComponent(named[1]) : 'ledger' };
}
