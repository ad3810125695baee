// 今日待办: the station's new clues and weekly report (police), what waits in 村务 (village head,
// town office), staff checks that found a record or fall due again, visits that found signs of
// abuse with no clue filed yet, visits the village head questioned, then overdue visits, visits due,
// follow-ups a visit called for, then the nearest households by GPS.
import { h, page, today, addDays, fmtDate, fmtTime } from '../ui.js';
import * as api from '../api.js';
import * as store from '../store.js';
import * as state from '../state.js';
import { RISK, T } from '../i18n/zh-CN.js';
import { isHead, role } from '../online.js';
import { periodText } from './head.js';
import { checklistWords, mayInspect, myUnit } from './venue.js';
import { openChains } from '../violations.js';
import { clueAddress, cluePrompt, unreported } from '../clue-prompt.js';
import { followUpRules, toDoFor } from '../rules.js';

let position = null;
// A head's or the town office's lists run to hundreds: the rest are in the ledger.
const HEAD_LIST_MAX = 30;
const RISK_ORDER = { high: 0, medium: 1, low: 2 };
const LIST_MORE = `只列出前 ${HEAD_LIST_MAX} 名，其余可在“我的儿童”中查找。`;
// What waits in 村务, from the server's counts: [count key, screen, words].
const HEAD_TASKS = [
  ['review_pending', '#/review', (n) => `${n} 条走访记录待审核`],
  ['location_pending', '#/locations', (n) => `${n} 户住址位置待确认`],
  ['plan_approval', '#/plans', (n) => `${n} 份帮扶计划待审批`],
  ['plan_helper_missing', '#/plans', (n) => `${n} 份帮扶计划待指定帮扶责任人`],
  ['plan_missing', '#/plans', (n) => `${n} 名高风险儿童未落实帮扶计划`],
];

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

/** A distance as people say it: metres to the nearest ten, kilometres beyond one. */
export function distanceText(m) {
  return m < 1000 ? `约 ${Math.max(10, Math.round(m / 10) * 10)} 米` : `约 ${(m / 1000).toFixed(1)} 公里`;
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

/** My visits that found signs of abuse with no clue filed yet: the report is due at once. */
async function unreportedSection(todo) {
  const serverItems = ((todo && todo.tasks) || []).filter((t) => t.kind === 'clue_missing');
  const visits = unreported(await cluePrompt(), serverItems, (state.get().user || {}).id);
  if (!visits.length) return null;
  return h('section', { 'aria-labelledby': 'unreported-h', 'data-testid': 'clue-missing' },
    h('h2', { id: 'unreported-h' }, `走访发现侵害迹象，尚未报告线索（${visits.length}）`),
    h('ul', { class: 'list' }, visits.map(({ visit, signs, title }) => {
      const c = store.one('child', visit.child_id);
      return h('li', {}, h('a', { class: 'item', href: clueAddress(visit.child_id, visit.id), 'data-visit': visit.id },
        h('strong', {}, c ? c.name : title || '（本机没有该儿童）'), h('span', { class: 'tag high' }, '待报告'),
        h('span', { class: 'meta' }, `${fmtTime(visit.visited_at)} 走访发现：${signs.map((x) => x.label).join('、')}`)));
    })));
}

/** The children a visit found wanting a follow-up (prevention education not received) or whose latest
 *  visit the worker marked 需要跟进, from the local store, offline too: each stands until a visit
 *  finds it done. */
function followUpSection(kids, rules) {
  const amended = store.amendedIds('visit');
  const toDo = new Map(kids.map((c) => [c, toDoFor(c, rules, amended)]));
  const wanting = kids.filter((c) => toDo.get(c).length);
  return childSection('follow-up-h', '待落实事项', wanting, (c) => toDo.get(c).join('；'),
    h('a', { class: 'btn link', href: '#/ledgers/children/follow_up' }, '在台账中查看全部有待落实事项的儿童'), 'follow-up');
}

// Who follows rectifications up (the server's to-do gives them theirs), and how soon a deadline is listed.
const RECTIFY_ROLES = ['inspector', 'village_head', 'town_admin'];
const RECTIFY_SOON_DAYS = 7;

function dueTag(deadline, now) {
  const days = Math.round((Date.parse(deadline) - Date.parse(now)) / 86400000);
  return days < 0 ? '已逾期' : days === 0 ? '今天到期' : `${days} 天后到期`;
}

/** Whether an item's latest failing check is the caller's to follow up: for an inspector, what their
 *  unit found, or they themselves (the server's to-do has it so; one saved here and not synced yet is
 *  theirs); for a head or the town office, all. A session from before the server named the unit's
 *  members: all. */
function ourFindings() {
  const user = state.get().user || {};
  if (role() !== 'inspector' || !Array.isArray(user.unit_member_ids)) return () => true;
  const unit = new Set([user.id, ...user.unit_member_ids]);
  return (inspection) => !inspection.inspector_id || unit.has(inspection.inspector_id);
}

/** Rectifications overdue or due within a week, from the inspections the phone holds (offline too),
 *  one entry a re-inspection chain, the earliest deadline first; each opens its re-inspection. */
async function rectificationSection(now) {
  if (!RECTIFY_ROLES.includes(role())) return null;
  const soon = addDays(now, RECTIFY_SOON_DAYS);
  const wordsOf = await checklistWords();
  const byDay = (a, b) => a.deadline.localeCompare(b.deadline);
  const ours = ourFindings();
  const entries = store.all('venue').flatMap((v) => openChains(v.id).map((c) => ({ v, inspection: c.inspection,
    items: c.items.filter((x) => x.deadline && x.deadline <= soon && ours(x.inspection)).sort(byDay) })))
    .filter((e) => e.items.length)
    .sort((a, b) => byDay(a.items[0], b.items[0]) || a.v.name.localeCompare(b.v.name, 'zh-CN'));
  if (!entries.length) return null;
  const byDeadline = ({ v, inspection, items }) => {
    const words = wordsOf(inspection, v);
    const days = [...new Set(items.map((x) => x.deadline))];
    return days.map((d) => `${d}：${items.filter((x) => x.deadline === d).map((x) => words.get(x.item) || x.item).join('、')}`).join('；');
  };
  return h('section', { 'aria-labelledby': 'rectify-h', 'data-testid': 'rectifications' },
    h('h2', { id: 'rectify-h' }, `整改到期（${entries.length}）`),
    h('ul', { class: 'list' }, entries.map((e) => h('li', {}, h('a', { class: 'item',
      href: mayInspect() ? `#/inspect/${e.v.id}/${e.inspection.id}` : `#/venue/${e.v.id}` },
    h('strong', {}, e.v.name),
    h('span', { class: `tag${e.items[0].deadline <= now ? ' high' : ''}` }, dueTag(e.items[0].deadline, now)),
    h('span', { class: 'meta' }, `整改期限 ${byDeadline(e)}`))))));
}

// The day of the month after which the town office is warned of no joint operation yet (the server's too).
const OPERATION_WARNING_DAY = 20;

/** The town office's warning that the month is past the 20th with no joint operation, from the
 *  operations the phone holds (offline too): it opens 联合执法行动, where one is logged. */
function operationMissingSection(now) {
  if (role() !== 'town_admin' || Number(now.slice(8, 10)) <= OPERATION_WARNING_DAY) return null;
  const first = `${now.slice(0, 8)}01`;
  if (store.all('joint_operation').some((o) => o.date >= first && o.date <= now)) return null;
  return h('section', { 'aria-labelledby': 'operation-h' }, h('h2', { id: 'operation-h' }, '联合执法'),
    h('ul', { class: 'list' }, h('li', {}, h('a', { class: 'item', href: '#/operations', 'data-testid': 'operation-missing' },
      h('strong', {}, `${periodText(now.slice(0, 7))}已过${OPERATION_WARNING_DAY}日，尚未开展联合执法行动`),
      h('span', { class: 'tag high' }, '逾期')))));
}

/** The police station's new clues, counted from the local store so the to-do shows offline too. */
function cluesSection() {
  if (role() !== 'police') return null;
  const replaced = store.amendedIds('clue');
  const waiting = store.all('clue').filter((c) => c.status === 'new' && !replaced.has(c.id)).length;
  if (!waiting) return null;
  return h('section', { 'aria-labelledby': 'clues-h', 'data-testid': 'clues-waiting' },
    h('h2', { id: 'clues-h' }, '线索'),
    h('ul', { class: 'list' }, h('li', {}, h('a', { class: 'item', href: '#/clues' },
      h('strong', {}, `${waiting} 条线索待受理`)))));
}

/** The server's to-do of the police, a village head, the town office, an inspector or a grid worker: the server
 * knows, so only online, and a slow network must not hold up a screen that otherwise opens from the phone. */
async function serverTasks() {
  if (!(isHead() || ['police', 'grid_worker', 'inspector'].includes(role())) || !navigator.onLine) return null;
  return Promise.race([
    api.get('/api/tasks').catch(() => null),
    new Promise((resolve) => { setTimeout(() => resolve(null), 3000); })]);
}

/** What waits for the village head (the town office reads) in 村务, each a link to its screen. */
function headSection(todo) {
  if (!todo || !isHead()) return null;
  const counts = todo.counts || {};
  const items = HEAD_TASKS.filter(([key]) => counts[key]).map(([key, href, words]) => h('li', {},
    h('a', { class: 'item', href }, h('strong', {}, words(counts[key])))));
  for (const t of (todo.tasks || []).filter((x) => x.kind === 'report_due')) {
    const missing = (t.detail && t.detail.missing) || [];
    items.push(h('li', {}, h('a', { class: 'item', href: '#/head' },
      h('strong', {}, `${periodText(t.entity_id)}月报${missing.length ? `：${missing.length} 个村/社区未提交` : '待提交'}`),
      t.overdue ? h('span', { class: 'tag high' }, '逾期') : null,
      h('span', { class: 'meta' }, `应于 ${t.due} 前提交`))));
  }
  if (!items.length) return null;
  return h('section', { 'aria-labelledby': 'head-h', 'data-testid': 'head-todo' },
    h('h2', { id: 'head-h' }, '村务待办'), h('ul', { class: 'list' }, items));
}

/** The station's weekly report waiting to be submitted. */
function weeklySection(todo) {
  if (role() !== 'police' || !todo) return null;
  const due = (todo.tasks || []).filter((t) => t.kind === 'weekly_report_due');
  if (!due.length) return null;
  return h('section', { 'aria-labelledby': 'weekly-h', 'data-testid': 'weekly-due' },
    h('h2', { id: 'weekly-h' }, '周报'),
    h('ul', { class: 'list' }, due.map((t) => h('li', {}, h('a', { class: 'item', href: `#/weekly/${encodeURIComponent(t.entity_id)}` },
      h('strong', {}, t.title), t.overdue ? h('span', { class: 'tag high' }, '逾期') : null,
      h('span', { class: 'meta' }, `应于 ${t.due} 前提交`))))));
}

const STAFF_TASKS = ['staff_record_found', 'staff_recheck_due'];

/** The server's staff-check to-do: a record found (police, town office) and checks falling due again
 *  (those who record them), each under the venue the phone knows it by. */
function staffSection(todo) {
  const tasks = ((todo && todo.tasks) || []).filter((t) => STAFF_TASKS.includes(t.kind));
  if (!tasks.length) return null;
  const item = (t) => {
    const c = store.one('staff_check', t.entity_id);
    const venue = c && c.employer_kind === 'venue' ? store.one('venue', c.employer_id) : null;
    const ours = c && c.employer_kind === 'unit' && c.employer_id === myUnit();
    const found = t.kind === 'staff_record_found';
    const body = [h('strong', {}, c ? c.person_name : t.title),
      found ? h('span', { class: 'tag high' }, '有违法犯罪记录') : t.overdue ? h('span', { class: 'tag high' }, '逾期') : null,
      h('span', { class: 'meta' }, [t.title, venue ? venue.name : ours && '本单位', found ? null : `应于 ${t.due} 前查询`]
        .filter(Boolean).join(' · '))];
    const to = venue ? `#/venue/${venue.id}` : ours ? '#/staff/unit' : null;
    return h('li', {}, to ? h('a', { class: 'item', href: to }, body) : h('div', { class: 'item' }, body));
  };
  return h('section', { 'aria-labelledby': 'staff-todo-h', 'data-testid': 'staff-todo' },
    // The server lists at most 50 of a kind; its counts are whole.
    h('h2', { id: 'staff-todo-h' }, `从业人员查询（${STAFF_TASKS.reduce((n, k) => n + ((todo.counts || {})[k] || 0), 0)
      || tasks.length}）`), h('ul', { class: 'list' }, tasks.map(item)));
}

/** A list of children under a heading with its count; a head's is cut short, `more` then says where the rest are. */
function childSection(id, title, kids, meta, more, testid = null) {
  if (!kids.length) return null;
  const shown = isHead() ? kids.slice(0, HEAD_LIST_MAX) : kids;
  return h('section', { 'aria-labelledby': id, 'data-testid': testid }, h('h2', { id }, `${title}（${kids.length}）`),
    h('ul', { class: 'list' }, shown.map((c) => childItem(c, meta(c)))),
    shown.length < kids.length ? h('p', {}, more) : null);
}

/** When the venue was last inspected as the phone knows it: the server's word, or an inspection saved on
 *  this phone and not synced yet (a correction moves nothing until the server has it), as { at, pending }. */
function lastInspection(v) {
  const mine = store.counted('inspection', store.inspectionsOf(v.id)).find((i) => i._pending && !i.amends);
  const server = v.last_inspected_at ? { at: v.last_inspected_at, pending: false } : null;
  if (!mine) return server;
  return server && new Date(server.at) >= new Date(mine.inspected_at) ? server : { at: mine.inspected_at, pending: true };
}

/** When the child's next visit falls due, as the server says: its next_visit_due, or for a child
 *  never visited a full interval after registration (first_visit_due). */
const dueOf = (c) => c.next_visit_due || c.first_visit_due || null;
/** The child's visits but those the server refused: not visits until the worker fixes them (同步 › 需要处理). */
const standing = (c) => store.counted('visit', store.visitsOf(c.id));
const hasRefusedVisit = (c) => store.visitsOf(c.id).some((v) => store.refused('visit', v.id));

/** The children by the schedule, as the server's to-do counts them: overdue (due before today),
 *  most overdue first; due today; never visited and not due yet (or registered on this phone),
 *  highest risk first; the rest. */
function dueLists(kids, now) {
  // A visit saved on this phone and not synced yet moves no due date: it still takes the child off the lists.
  const visited = (c) => standing(c).some((v) => v._pending && !v.amends);
  const waiting = kids.filter((c) => dueOf(c) && dueOf(c) <= now && !visited(c))
    .sort((a, b) => String(dueOf(a)).localeCompare(String(dueOf(b))));
  const overdue = waiting.filter((c) => dueOf(c) < now);
  const dueToday = waiting.filter((c) => dueOf(c) === now);
  const due = new Set(waiting);
  const never = kids.filter((c) => !c.last_visit_at && !due.has(c) && !standing(c).length)
    .sort((a, b) => (RISK_ORDER[a.risk_level] ?? 3) - (RISK_ORDER[b.risk_level] ?? 3));
  const listed = new Set([...due, ...never]);
  return { overdue, dueToday, never, rest: kids.filter((c) => !listed.has(c)) };
}

export async function render() {
  if (!position) position = await locate();
  const now = today();
  const kids = store.children();
  const { overdue, dueToday, never, rest } = dueLists(kids, now);
  const place = (c) => { const hh = store.one('household', c.household_id); return hh && hh.lat != null ? hh : null; };
  if (position) {
    rest.sort((a, b) => (place(a) ? distanceM(position, place(a)) : Infinity) - (place(b) ? distanceM(position, place(b)) : Infinity));
  }
  // Never inspected first, then the longest since.
  const inspectedAt = ({ last }) => (last ? new Date(last.at).getTime() : 0);
  const venues = (mayInspect() ? store.all('venue') : []).filter((v) => v.status !== 'closed')
    .map((v) => ({ v, last: lastInspection(v) })).sort((a, b) => inspectedAt(a) - inspectedAt(b));
  const near = (c) => (position && place(c) ? distanceText(distanceM(position, place(c))) : `下次走访 ${dueOf(c) || '—'}`);
  const since = (c) => (c.last_visit_at ? '' : '登记后尚未走访，');
  const refusedNote = (c) => (hasRefusedVisit(c) ? '；本机记录的走访被退回，请到“同步”处理' : '');
  const questioned = questionedSection();
  const clues = cluesSection();
  const todo = await serverTasks();
  const weekly = weeklySection(todo);
  const head = headSection(todo);
  const unreportedVisits = await unreportedSection(todo);
  const staff = staffSection(todo);
  const followUps = followUpSection(kids, await followUpRules());
  const rectifications = await rectificationSection(now);
  const operationMissing = operationMissingSection(now);
  return page(T.today,
    clues,
    weekly,
    head,
    staff,
    operationMissing,
    unreportedVisits,
    questioned,
    kids.length && !overdue.length ? h('section', { 'aria-labelledby': 'overdue-h' },
      h('h2', { id: 'overdue-h' }, '逾期走访（0）'), h('p', {}, '没有逾期的走访。')) : null,
    childSection('overdue-h', '逾期走访', overdue, (c) => `${since(c)}应于 ${dueOf(c)} 走访${refusedNote(c)}`,
      h('a', { class: 'btn link', href: '#/ledgers/children/overdue' }, '在台账中查看全部走访逾期的儿童')),
    childSection('due-today-h', '今天应走访', dueToday, (c) => `${since(c)}今天应走访${refusedNote(c)}`, LIST_MORE),
    childSection('never-h', '尚未走访', never, (c) => (dueOf(c) ? `登记后尚未走访，应于 ${dueOf(c)} 前走访` : '登记后尚未走访') + refusedNote(c),
      LIST_MORE),
    followUps,
    rectifications,
    rest.length ? h('section', { 'aria-labelledby': 'near-h' },
      h('h2', { id: 'near-h' }, position ? '附近的儿童（按距离）' : '其他儿童'),
      h('ul', { class: 'list' }, rest.slice(0, 30).map((c) => childItem(c, near(c))))) : null,
    venues.length ? h('section', { 'aria-labelledby': 'venue-h' },
      h('h2', { id: 'venue-h' }, '待检查场所'),
      h('ul', { class: 'list' }, venues.slice(0, 20).map(({ v, last }) => h('li', {}, h('a', { class: 'item', href: `#/inspect/${v.id}` },
        h('strong', {}, v.name), h('span', { class: 'meta' },
          last ? `上次检查 ${fmtDate(last.at)}${last.pending ? '（待同步）' : ''}` : '尚未检查')))))) : null,
    !kids.length && !venues.length && !questioned && !clues && !weekly && !head && !unreportedVisits && !staff && !rectifications
      && !operationMissing
      ? h('p', {}, store.all('venue').length ? '今天没有待办事项。' : '暂无数据。联网后点“同步”获取您负责的儿童和场所。') : null);
}
