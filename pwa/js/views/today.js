// 今日待办: the station's new clues and weekly report (police), visits the village head questioned,
// then overdue visits, then the nearest households by GPS.
import { h, page, today, fmtTime } from '../ui.js';
import * as api from '../api.js';
import * as store from '../store.js';
import * as state from '../state.js';
import { RISK, T } from '../i18n/zh-CN.js';

let position = null;

function locate() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }), () => resolve(null),
    { timeout: 5000, maximumAge: 300000 }));
}

export function distanceM(a, b) {
  const r = 6371000;
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(x));
}

function childItem(c, extra) {
  return h('li', {}, h('a', { class: 'item', href: `#/child/${c.id}` },
    h('strong', {}, c.name), h('span', { class: `tag ${c.risk_level || ''}` }, RISK[c.risk_level] || '未评估'),
    h('span', { class: 'meta' }, extra)));
}

/** My visits the village head questioned and nothing corrects yet: from the local store, offline too. */
function questionedSection() {
  const visits = store.questionedVisits((state.get().user || {}).id);
  if (!visits.length) return null;
  return h('section', { 'aria-labelledby': 'questioned-h', 'data-testid': 'questioned' },
    h('h2', { id: 'questioned-h' }, `走访记录存疑，待更正（${visits.length}）`),
    h('ul', { class: 'list' }, visits.map((v) => {
      const c = store.one('child', v.child_id);
      return h('li', {}, h('a', { class: 'item', href: `#/visit/${v.child_id}/${v.id}`, 'data-visit': v.id },
        h('strong', {}, c ? c.name : '（本机没有该儿童）'), h('span', { class: 'tag high' }, '存疑'),
        h('span', { class: 'meta' }, `${fmtTime(v.visited_at)} 的走访记录存疑，待更正`),
        h('span', { class: 'meta' }, `负责人意见：${v.review_note || '（无）'}`)));
    })));
}

/** The police station's new clues, counted from the local store so the to-do shows offline too. */
function cluesSection() {
  if ((state.get().user || {}).role !== 'police') return null;
  const replaced = store.amendedIds('clue');
  const waiting = store.all('clue').filter((c) => c.status === 'new' && !replaced.has(c.id)).length;
  if (!waiting) return null;
  return h('section', { 'aria-labelledby': 'clues-h', 'data-testid': 'clues-waiting' },
    h('h2', { id: 'clues-h' }, '线索'),
    h('ul', { class: 'list' }, h('li', {}, h('a', { class: 'item', href: '#/clues' },
      h('strong', {}, `${waiting} 条线索待受理`)))));
}

/** The station's weekly report waiting to be submitted: the server knows, so only online, and a
 * slow network must not hold up a screen that otherwise opens from the phone. */
async function weeklySection() {
  if ((state.get().user || {}).role !== 'police' || !navigator.onLine) return null;
  const tasks = await Promise.race([
    api.get('/api/tasks').then((r) => r.tasks || [], () => []),
    new Promise((resolve) => { setTimeout(() => resolve([]), 3000); })]);
  const due = tasks.filter((t) => t.kind === 'weekly_report_due');
  if (!due.length) return null;
  return h('section', { 'aria-labelledby': 'weekly-h', 'data-testid': 'weekly-due' },
    h('h2', { id: 'weekly-h' }, '周报'),
    h('ul', { class: 'list' }, due.map((t) => h('li', {}, h('a', { class: 'item', href: `#/weekly/${encodeURIComponent(t.entity_id)}` },
      h('strong', {}, t.title), t.overdue ? h('span', { class: 'tag high' }, '逾期') : null,
      h('span', { class: 'meta' }, `应于 ${t.due} 前提交`))))));
}

export async function render() {
  if (!position) position = await locate();
  const now = today();
  const kids = store.children();
  const overdue = kids.filter((c) => !c.next_visit_due || c.next_visit_due <= now)
    .sort((a, b) => String(a.next_visit_due || '').localeCompare(String(b.next_visit_due || '')));
  const rest = kids.filter((c) => !overdue.includes(c));
  const place = (c) => { const hh = store.one('household', c.household_id); return hh && hh.lat != null ? hh : null; };
  if (position) {
    rest.sort((a, b) => (place(a) ? distanceM(position, place(a)) : Infinity) - (place(b) ? distanceM(position, place(b)) : Infinity));
  }
  const venues = store.all('venue').filter((v) => v.status !== 'closed')
    .sort((a, b) => String(a.last_inspected_at || '').localeCompare(String(b.last_inspected_at || '')));
  const near = (c) => (position && place(c) ? `约 ${Math.round(distanceM(position, place(c)))} 米` : `下次走访 ${c.next_visit_due || '—'}`);
  const questioned = questionedSection();
  const clues = cluesSection();
  const weekly = await weeklySection();
  return page(T.today,
    clues,
    weekly,
    questioned,
    kids.length ? h('section', { 'aria-labelledby': 'overdue-h' },
      h('h2', { id: 'overdue-h' }, `逾期走访（${overdue.length}）`),
      overdue.length ? h('ul', { class: 'list' }, overdue.map((c) => childItem(c, c.next_visit_due ? `应于 ${c.next_visit_due} 走访` : '尚未走访')))
        : h('p', {}, '没有逾期的走访。')) : null,
    rest.length ? h('section', { 'aria-labelledby': 'near-h' },
      h('h2', { id: 'near-h' }, position ? '附近的儿童（按距离）' : '其他儿童'),
      h('ul', { class: 'list' }, rest.slice(0, 30).map((c) => childItem(c, near(c))))) : null,
    venues.length ? h('section', { 'aria-labelledby': 'venue-h' },
      h('h2', { id: 'venue-h' }, '待检查场所'),
      h('ul', { class: 'list' }, venues.slice(0, 20).map((v) => h('li', {}, h('a', { class: 'item', href: `#/inspect/${v.id}` },
        h('strong', {}, v.name), h('span', { class: 'meta' }, v.last_inspected_at ? `上次检查 ${String(v.last_inspected_at).slice(0, 10)}` : '尚未检查')))))) : null,
    !kids.length && !venues.length && !questioned && !clues && !weekly ? h('p', {}, '暂无数据。联网后点“同步”获取您负责的儿童和场所。') : null);
}
