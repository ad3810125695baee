// What the village head's screens share: they read the server directly, so they need the network.
import { h, toast } from './ui.js';
import * as api from './api.js';
import * as state from './state.js';
import { T } from './i18n/zh-CN.js';

export const HEAD_ROLES = ['village_head', 'town_admin'];
export const role = () => (state.get().user || {}).role || null;
export const isHead = () => HEAD_ROLES.includes(role());
/** Only the village head decides (review, approve, override); the town admin reads. */
export const decides = () => role() === 'village_head';
// The town office sees people's names masked; the server matches a name search only as shown.
export const namesMasked = () => role() === 'town_admin';

export function offlineNotice() {
  return h('p', { class: 'banner warn', role: 'status', 'data-testid': 'offline' }, T.needsNetwork);
}

// The server no longer knows this phone's login (its session ended before a sync noticed).
const ENDED = `${T.relogin}。点上方“去登录”。`;

/** Whether `e` says the server session has ended; if so, ask for the password as a failed sync does
 *  (the 去登录 banner), so the screen that met it is not left with nothing to press. */
function sessionEnded(e) {
  if (!e || e.status !== 401) return false;
  api.setCsrf(null);
  state.set({ needsLogin: true, syncError: null });
  return true;
}

/** The message for a failed call: the offline notice, the login to renew, or the server's own words. */
export function failure(e) {
  if (!e || e.status === 0) return offlineNotice();
  if (sessionEnded(e)) return h('p', { class: 'banner warn', role: 'alert' }, ENDED);
  return h('p', { class: 'banner warn', role: 'alert' }, `出错了：${e.message}`);
}

/** What a failed call says: no network, the login to renew, or the first message of a validation error
 *  (for the field that caused it), or the server's own words. */
export function errorText(e) {
  if (e && e.status === 0) return T.needsNetwork;
  if (sessionEnded(e)) return ENDED;
  const fields = (e && e.fields) || {};
  const first = Object.values(fields).flat()[0];
  return first || (e && e.message) || '出错了';
}

/** Download an export (an audited CSV or XLSX) and save it under the server's file name. */
export async function saveFile(path) {
  const { blob, filename } = await api.download(path);
  const a = h('a', { href: URL.createObjectURL(blob), download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30000);
  toast(`已导出：${filename}`);
}
