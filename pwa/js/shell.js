// The status bar, the navigation, the banners and the three-tap clue button.
import { h, fmtTime } from './ui.js';
import { T } from './i18n/zh-CN.js';
import * as state from './state.js';

const CHILD_ROLES = ['grid_worker', 'village_head', 'town_admin'];
const HEAD_ROLES = ['village_head', 'town_admin'];
const VENUE_ROLES = ['inspector', 'village_head', 'town_admin', 'police'];
const CLUE_ROLES = ['police', 'town_admin'];

const CROWDED = 7;  // the town office's tabs; six still fit on one line at 360 px

/** The role's tabs as [href, key of T]. */
export function navItems(role) {
  const items = [['#/today', 'today']];
  if (CHILD_ROLES.includes(role)) items.push(['#/children', 'children']);
  if (VENUE_ROLES.includes(role)) items.push(['#/venues', 'venues']);
  if (CLUE_ROLES.includes(role)) items.push(['#/clues', 'clues']);
  if (CHILD_ROLES.includes(role)) items.push(['#/register', 'register']);
  if (HEAD_ROLES.includes(role)) items.push(['#/head', 'head']);
  items.push(['#/sync', 'sync']);
  return items;
}

function tab(href, key, crowded) {
  const short = crowded && T.navShort[key];
  // A short label keeps the whole one as the link's name, which contains it (label in name).
  return h('a', { href, 'data-nav': href, ...(short ? { 'aria-label': T[key] } : {}) }, short || T[key]);
}

export function show(user) {
  for (const id of ['status', 'nav', 'clue-fab']) document.getElementById(id).hidden = !user;
  const nav = document.getElementById('nav');
  const items = user ? navItems(user.role) : [];
  nav.replaceChildren(...items.map(([href, key]) => tab(href, key, items.length >= CROWDED)));
  markNav();
}

// A screen inside a tab lights that tab: a child's page and visits are under 儿童, and so on.
const TAB_OF = {
  today: '#/today', child: '#/children', visit: '#/children', venue: '#/venues', inspect: '#/venues', staff: '#/venues', operations: '#/venues', minor: '#/venues',
  'venue-add': '#/venues',
  weekly: '#/clues', head: '#/head', ledgers: '#/head', review: '#/head', locations: '#/head',
  devices: '#/head', plans: '#/head', plan: '#/head', conflict: '#/sync',
};

export function markNav() {
  const name = location.hash.replace(/^#\/?/, '').split('/')[0] || 'today';
  const here = TAB_OF[name] || `#/${name}`;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('data-nav') === here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // The report button would only repeat the form it opens.
  const fab = document.getElementById('clue-fab');
  if (!document.getElementById('nav').hidden) fab.hidden = name === 'clue';
}

function renderStatus(s) {
  const bar = document.getElementById('status');
  bar.replaceChildren(
    h('span', { class: `dot ${s.online ? 'on' : 'off'}`, 'data-testid': 'net' }, s.online ? T.online : T.offline),
    h('span', { 'data-testid': 'unsynced' }, `${T.unsynced} ${s.unsynced}`),
    h('span', { 'data-testid': 'last-sync' }, `${T.lastSync} ${s.lastSync ? fmtTime(s.lastSync) : T.never}`),
    ...(s.syncing ? [h('span', { class: 'busy' }, T.syncing)] : []),
  );
  const banners = document.getElementById('banners');
  const list = [];
  if (s.update) {
    list.push(h('div', { class: 'banner info', role: 'alert' }, h('span', {}, `${T.updateReady}：更新不会丢失未同步的记录。`),
      h('button', { type: 'button', class: 'btn small', 'data-action': 'update' }, T.updateNow)));
  }
  if (s.needsLogin) {
    list.push(h('div', { class: 'banner warn', role: 'alert' },
      h('span', {}, s.passwordChanged ? T.passwordChanged : T.relogin), h('a', { class: 'btn small', href: '#/sync' }, '去登录')));
  }
  if (s.user && s.user.must_change_password && !s.needsLogin) {
    list.push(h('div', { class: 'banner warn', role: 'alert', 'data-testid': 'must-change-password' },
      h('span', {}, T.mustChangePassword),
      h('a', { class: 'btn small', href: '#/sync' }, '去修改')));
  }
  if (s.conflicts) {
    list.push(h('div', { class: 'banner warn', role: 'alert' },
      h('span', {}, `有 ${s.conflicts} 条记录与服务器冲突，需要您选择或合并。`),
      h('a', { class: 'btn small', href: '#/sync', 'data-testid': 'conflict-link' }, '去处理')));
  }
  if (s.attention) {
    list.push(h('div', { class: 'banner warn', role: 'alert' },
      h('span', {}, `有 ${s.attention} 条记录被服务器退回，需要处理。`), h('a', { class: 'btn small', href: '#/sync' }, '查看')));
  }
  if (s.user && s.syncError) list.push(h('div', { class: 'banner muted' }, s.syncError));
  banners.replaceChildren(...list);
}

export function init(onUpdate) {
  state.subscribe(renderStatus);
  document.getElementById('banners').addEventListener('click', (e) => {
    if (e.target.closest('[data-action="update"]')) onUpdate();
  });
  renderStatus(state.get());
}
