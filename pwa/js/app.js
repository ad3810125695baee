// Start: the service worker, unlock or first login, the router, the sync schedule.
import * as api from './api.js';
import * as db from './db.js';
import * as drafts from './drafts.js';
import * as idleLock from './idle-lock.js';
import * as otherTabs from './other-tabs.js';
import * as session from './session.js';
import * as shell from './shell.js';
import * as state from './state.js';
import * as store from './store.js';
import * as sync from './sync.js';
import { confirmDialog, h, inWords, page, toast } from './ui.js';

const VIEWS = {
  today: () => import('./views/today.js'),
  children: () => import('./views/children.js'),
  child: () => import('./views/child.js'),
  visit: () => import('./views/visit.js'),
  register: () => import('./views/register.js'),
  venues: () => import('./views/venues.js'),
  venue: () => import('./views/venue.js'),
  inspect: () => import('./views/inspection.js'),
  staff: () => import('./views/staff-check.js'),
  operations: () => import('./views/operations.js'),
  minor: () => import('./views/minor-found.js'),
  'venue-add': () => import('./views/venue-add.js'),
  clue: () => import('./views/clue.js'),
  clues: () => import('./views/clues.js'),
  weekly: () => import('./views/weekly.js'),
  sync: () => import('./views/sync.js'),
  conflict: () => import('./views/conflict.js'),
  head: () => import('./views/head.js'),
  ledgers: () => import('./views/ledgers.js'),
  review: () => import('./views/review.js'),
  locations: () => import('./views/locations.js'),
  duplicates: () => import('./views/duplicates.js'),
  devices: () => import('./views/devices.js'),
  plans: () => import('./views/plans.js'),
  plan: () => import('./views/plans.js'),
};
const REPORT = '#/clue';
const RECORD_TITLES = {
  child: '儿童详情', visit: '记录走访', inspect: '场所检查', venue: '场所详情', staff: '从业人员查询', minor: '发现未成年人', clue: '强制报告', conflict: '处理冲突',
  review: '走访审核', register: '修改登记', plan: '帮扶计划', plans: '帮扶计划', ledgers: '台账', weekly: '周报',
};
const WIPE_MESSAGES = {
  revoked: '该设备已被管理员停用，本机数据已全部清除。',
  tries: '密码错误次数过多，本机数据已全部清除，请联网重新登录。',
  logout: '已退出登录，本机数据已清除。',
};
let waitingWorker = null;
let updating = false;
let rendering = 0;
let drawn = null;  // the address of the screen drawn last
let place = 0;  // the position in the history of the entry shown, kept in its state: which way a move went
let drawnPlace = 0;  // the position of the entry whose screen is drawn
let asking = false;  // the worker is being asked whether to leave a form's typing
let aside = null;  // a screen holding typing, set aside for the report: { hash, node, shown }
let reloadPending = false;
let wiping = false;

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  const offer = (w) => { waitingWorker = w; state.set({ update: true }); };
  if (reg.waiting && hadController) offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    w.addEventListener('statechange', () => { if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w); });
  });
  let controlled = hadController;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    const first = !controlled;  // the first worker taking over a page loaded without one
    controlled = true;
    if (first && !updating) return;
    if (!holdForForm()) location.reload();
  });
}

const TYPED = '#view form[data-dirty]';
// A screen set aside for the report holds typing too: no redraw, reload or update takes it.
const dirtyForm = () => aside || document.querySelector(`${TYPED}, #view form[data-saving]`);
/** A form whose typing leaving would lose: not one being saved, which moves on by itself (ui.moveOn),
 *  nor one that holds nothing to keep (a search, a password). */
const unsavedForm = () => document.querySelector(`${TYPED}:not([data-saving]):not([data-leave-freely])`);

/** Another tab took a new version (its service worker, or its database upgrade, which waits on this
 *  tab's connection): say whether a half-filled form here holds it back, this tab then reloading
 *  once the form is saved or left (route). */
function holdForForm() {
  if (updating || !dirtyForm()) return false;
  reloadPending = true;
  return true;
}

/** This tab's new version waits for another tab to let go of the database (holdForForm there). */
function waitForOtherTab() {
  document.getElementById('view').replaceChildren(h('p', { class: 'banner warn', role: 'alert' },
    '正在升级本机数据：另一个打开的护蕾页面里有正在填写的内容。请到那个页面保存或离开，本页面随后自动继续。'));
}

/** Take the new version only between syncs: everything unsynced is already in IndexedDB. */
async function applyUpdate() {
  if (!waitingWorker) return;
  // The reload that takes the new version keeps everything saved, and a form's typing and photos
  // as a draft, but not a form that keeps no draft (a conflict's picks).
  const kept = drafts.keepsAll(document.getElementById('view')) && (!aside || drafts.keepsAll(aside.node));
  if (dirtyForm() && !await confirmDialog('更新应用', kept
    ? '正在填写的内容会暂存在本机，更新后回到原页面即可继续填写。建议先保存，再点“更新”。'
    : '正在填写的内容还没有保存，现在更新会丢失这些内容。建议先保存，再点“更新”。', '仍然更新')) return;
  updating = true;
  await drafts.flushAll();
  const go = () => waitingWorker.postMessage({ type: 'SKIP_WAITING' });
  if (navigator.locks) await navigator.locks.request('hulei-sync', go);
  else go();
}

/** A screen whose code this page cannot fetch: offline before the app was stored on the phone. */
function notLoaded() {
  return page('无法打开', h('p', { class: 'banner warn', role: 'alert' },
    '这个页面还没有下载到本机，需要联网后才能打开。已保存的记录不受影响。'));
}

/** The page's first load, before its service worker stores the app: fetch every screen's code
 *  now, while there is signal, so a worker who walks out of coverage right after the first login
 *  can still open them all. */
function holdScreens() {
  if (navigator.serviceWorker && navigator.serviceWorker.controller) return;
  for (const load of Object.values(VIEWS)) load().catch(() => {});
}

/** Draw the screen the address names. A redraw (the store reloaded: `focus` false) leaves a form
 *  that took typing while the screen was rendered, unless the address has changed meanwhile. */
export async function route(focus = false) {
  const ticket = ++rendering;
  const hash = location.hash;
  const [name, ...params] = (hash.replace(/^#\/?/, '') || 'today').split('/');
  const view = document.getElementById('view');
  if (!db.hasKey()) return;
  let el, held;
  if (aside && aside.hash === hash) {  // back from the report: the work as it was left
    ({ node: el, shown: held } = aside);
    aside = null;
  } else {
    const mod = await (VIEWS[name] || VIEWS.today)().catch(() => ({ render: notLoaded }));
    held = store.loadedCursor();
    el = await mod.render(...params.map(decodeURIComponent));
    if (ticket !== rendering) return;
    if (!focus && dirtyForm() && hash === drawn) return;
  }
  view.replaceChildren(el);
  drawn = hash;
  drawnPlace = place;
  store.markShown(held);
  if (reloadPending && !dirtyForm()) {  // the form that held a new version back has been left
    location.reload();
    return;
  }
  shell.markNav();
  const title = view.querySelector('h1');
  if (title && focus) title.focus();
  // A record's screen names a child or a venue in its heading; the browser keeps page titles in
  // its history and recent-apps list, outside the encrypted store, so those get a generic title.
  const label = params.length ? (RECORD_TITLES[name] || '详情') : (title ? title.textContent : '');
  document.title = `${label} · 护蕾`;
}

/** Note where in the history the entry shown lies: an entry without a position is new (a link
 *  followed, an address set), one past the entry it was added after. */
function notePlace() {
  const at = history.state && history.state.at;
  if (typeof at === 'number') place = at;
  else history.replaceState({ at: ++place }, '');
}

/** The address changed (a tab, the report button, the back button): draw the screen it names, but
 *  leave a form holding unsaved typing only once the worker agrees to lose it; otherwise the history
 *  goes back to the form's entry and the form stays as it is. */
async function hashChanged() {
  notePlace();
  if (asking) return;  // the question open answers for this move too
  const back = aside !== null && location.hash === aside.hash;  // from the report to the work set aside
  if (!unsavedForm() && (aside === null || back)) {
    route(true);
    return;
  }
  rendering += 1;  // a screen still being drawn must not replace the form meanwhile
  if (location.hash === drawn) {  // back at the form's own address, as after staying
    if (aside && aside.node === document.getElementById('view').firstElementChild) aside = null;  // before the report was drawn
    return;
  }
  if (location.hash === REPORT && aside === null) {
    // The report is one tap from anywhere and costs no work: the screen waits, typing and all, for
    // the worker to come back to its address (the report, filed or not, goes back there). Leaving
    // the report anywhere else asks, as leaving the form would have.
    aside = { hash: drawn, node: document.getElementById('view').firstElementChild, shown: store.shownCursor() };
    route(true);
    return;
  }
  asking = true;
  const leave = await confirmDialog('离开此页？', '填写的内容还没有保存，离开后将丢失。', '离开', '继续填写');
  asking = false;
  if (!leave) {
    if (place !== drawnPlace) history.go(drawnPlace - place);
    return;
  }
  drafts.dropIn(document.getElementById('view'));  // the typing the worker chose to lose
  if (!back) {  // the work set aside goes with the report left
    if (aside) drafts.dropIn(aside.node);
    aside = null;
  }
  route(true);
}

async function afterUnlock() {
  state.set({ lastSync: await db.kvGet('lastSync') });
  await store.load();
  if (!db.hasKey()) return;  // wiped meanwhile: the reconnect found the device revoked
  shell.show(state.get().user);
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: 'PRECACHE' });
  }
  drafts.prune();  // queued before the first screen's draft is read
  await route();
  holdScreens();
  sync.start();
  idleLock.start();
}

/** Wipe the phone for `reason`; the page reloads and says why (boot). */
export async function wiped(reason) {
  if (wiping) return;
  // After its wipe a revoked device's cookie is still answered 410: nothing is left to wipe.
  if (reason === 'revoked' && !db.hasKey() && !await db.getAuth()) return;
  wiping = true;
  rendering += 1;  // a screen still being rendered must not be drawn meanwhile
  // A revoked phone cannot send what it holds: say how much was lost, so the worker can report it.
  let lost = 0;
  if (reason === 'revoked') {  // the outbox's counts are readable without the key
    await store.refreshCounts().catch(() => {});
    lost = state.get().unsynced || 0;
  }
  await session.wipe(reason, lost);
}

function wipeMessage(note) {
  const message = note && WIPE_MESSAGES[note.reason];
  if (!message) return null;
  return note.lost ? `${message}其中 ${note.lost} 条未同步的记录无法再上传，请向镇平安办说明。` : message;
}

/** Show what another tab's sync brought: read from IndexedDB, never synced again here; the store's
 *  reload redraws the screen unless a form on it holds typing. */
async function showOtherSync(changed) {
  if (!db.hasKey()) return;
  try {
    state.set({ lastSync: await db.kvGet('lastSync') });
    if (changed) await store.load();
  } catch (e) { /* wiped meanwhile: the login screen shows instead */ }
}

async function boot() {
  db.onUpgrade(holdForForm, waitForOtherTab);
  shell.init(applyUpdate);
  registerWorker().catch(() => {});
  store.onChange(() => { if (!dirtyForm()) route(); });
  drafts.onDiscard(() => route(true));
  otherTabs.onOtherSync(showOtherSync);
  notePlace();
  addEventListener('hashchange', hashChanged);
  // 跳到正文 moves the focus, not the address: #view names no screen.
  document.querySelector('a.skip').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('view').focus();
  });
  api.whenRevoked(() => wiped('revoked'));
  const login = await import('./views/login.js');
  const note = await session.afterWipe();
  const auth = await db.getAuth();
  // Locked or logged out: whoever unlocks logs in again, so no session may be left open meanwhile,
  // unless another tab is unlocked and working in it.
  session.endServerSessionWhileLocked();
  const idle = idleLock.idleNote();
  document.getElementById('view').replaceChildren(auth ? login.renderUnlock(auth, afterUnlock, wiped, idle)
    : login.renderLogin(afterUnlock, wipeMessage(note)));
}

window.addEventListener('unhandledrejection', (e) => toast(`出错了：${inWords(e.reason)}`));
boot().catch((e) => document.getElementById('view').replaceChildren(h('p', { role: 'alert' }, `启动失败：${e.message}`)));
