// My venues: today's joint operation on top, then the venues nearest first (by name without a GPS
// fix), each with its last inspection, its open violations and, when it has some, a re-inspection;
// an inspector's card also opens the venue's page (inspection history, staff checks).
import { h, addDays, fmtDate, localDate, page, today } from '../ui.js';
import * as store from '../store.js';
import * as state from '../state.js';
import { openChains, openViolations } from '../violations.js';
import { distanceM, distanceText } from './today.js';
import { mayInspect, myUnit } from './venue.js';
import { T, VENUE_TYPE } from '../i18n/zh-CN.js';

// Who adds venues to the register (the server refuses the police's).
const REGISTERING_ROLES = ['inspector', 'village_head', 'town_admin'];
const mayRegister = () => REGISTERING_ROLES.includes((state.get().user || {}).role);
const FIX_MAX_AGE_MS = 2 * 60 * 1000;
let fix = null;
let asking = false;

/** Ask for a fresh fix in the background (a cheap phone indoors may take long or never answer);
 *  `onFix` runs when one arrives. */
function refreshFix(onFix) {
  if (asking || !navigator.geolocation || (fix && Date.now() - fix.at < FIX_MAX_AGE_MS)) return;
  asking = true;
  navigator.geolocation.getCurrentPosition(
    (p) => { asking = false; fix = { lat: p.coords.latitude, lon: p.coords.longitude, at: Date.now() }; onFix(); },
    () => { asking = false; }, { timeout: 15000, maximumAge: FIX_MAX_AGE_MS });
}

// A night check (夜查) runs on past midnight: until this hour the operation of the day before is still on.
const NIGHT_ENDS_HOUR = 6;

/** Whether the moment `at` falls within joint operation `op`: on its day, or in the small hours after it. */
export function duringOperation(op, at = new Date()) {
  const d = new Date(at);
  const day = localDate(d);
  return op.date === day || (d.getHours() < NIGHT_ENDS_HOUR && op.date === addDays(day, -1));
}

/** The joint operation on now in the phone's store, if there is one (the night's still going first). */
export function todaysOperation() {
  return store.all('joint_operation').filter((o) => duringOperation(o))
    .sort((a, b) => a.date.localeCompare(b.date))[0] || null;
}

function operationCard(op) {
  const units = (op.units || []).filter((u) => u && u !== op.lead_unit);
  return h('section', { class: 'card op', 'aria-labelledby': 'op-h', 'data-testid': 'today-operation' },
    h('h2', { id: 'op-h' }, '今日联合执法行动'),
    h('p', {}, `${op.date} · 牵头单位：${op.lead_unit}`),
    units.length ? h('p', { class: 'meta' }, `参加单位：${units.join('、')}`) : null,
    op.notes ? h('p', { class: 'meta' }, op.notes) : null,
    h('p', { class: 'meta' }, '今天的检查将计入本次行动。'));
}

/** Where 复查 goes: the re-inspection of the venue's one chain with open items, or with several,
 *  the venue page, which has one 复查 for each. */
function reinspectionAddress(v, open) {
  const chains = openChains(v.id, open);
  return chains.length === 1 ? `#/inspect/${v.id}/${chains[0].inspection.id}` : `#/venue/${v.id}`;
}

function venueItem(v, distance, amended) {
  const inspections = store.inspectionsOf(v.id);
  const last = store.counted('inspection', inspections).find((i) => !amended.has(i.id));
  const open = openViolations(v.id);
  const overdue = open.some((x) => x.deadline && x.deadline < today());
  const meta = [distance === null ? null : distanceText(distance),
    last ? `上次检查 ${fmtDate(last.inspected_at)}${last._pending ? '（待同步）' : ''}` : '尚未检查']
    .filter(Boolean).join(' · ');
  const inspects = mayInspect();
  return h('li', { class: 'venue', 'data-venue': v.id },
    h('a', { class: 'item', href: inspects ? `#/inspect/${v.id}` : `#/venue/${v.id}` }, h('strong', {}, v.name),
      h('span', { class: 'tag' }, VENUE_TYPE[v.type] || v.type),
      v.status === 'closed' ? h('span', { class: 'tag' }, '已停业') : null,
      open.length ? h('span', { class: 'tag high', 'data-testid': 'open-violations' },
        `待整改 ${open.length}${overdue ? '（已逾期）' : ''}`) : null,
      h('span', { class: 'meta' }, meta)),
    // The card opens the inspection form: the venue's page (its staff checks too) is a button here.
    inspects ? h('p', { class: 'row venue-actions' },
      h('a', { class: 'btn small', href: `#/venue/${v.id}`, 'aria-label': `${inspections.length ? '检查记录' : '场所详情'} ${v.name}` },
        inspections.length ? '检查记录' : '场所详情'),
      open.length ? h('a', { class: 'btn small reinspect', href: reinspectionAddress(v, open),
        'aria-label': `复查 ${v.name}` }, '复查') : null) : null);
}

function build() {
  const away = (v) => (fix && v.lat != null && v.lon != null ? distanceM(fix, v) : null);
  const venues = store.all('venue').map((v) => ({ v, d: away(v) }))
    .sort((a, b) => (a.v.status === 'closed') - (b.v.status === 'closed') || (a.d ?? Infinity) - (b.d ?? Infinity)
      || (a.v.name || '').localeCompare(b.v.name || '', 'zh-CN'));
  const op = todaysOperation();
  const amended = store.amendedIds('inspection');
  return page(T.venues, op ? operationCard(op) : null,
    mayRegister() ? h('p', { class: 'row' }, mayInspect() ? h('a', { class: 'btn', href: '#/operations' }, '联合执法行动') : null,
      h('a', { class: 'btn', href: '#/venue-add' }, '登记场所'),
      myUnit() ? h('a', { class: 'btn', href: '#/staff/unit' }, '本单位从业人员查询') : null) : null,
    venues.length ? h('section', { 'aria-labelledby': 'venues-h' },
      h('h2', { id: 'venues-h' }, venues.some((x) => x.d !== null) ? '场所（由近到远）' : '场所（按名称）'),
      h('ul', { class: 'list' }, venues.map(({ v, d }) => venueItem(v, d, amended)))) : h('p', {}, '暂无场所。'));
}

let shown = null;

export function render() {
  shown = build();
  refreshFix(() => {
    if (!shown || !shown.isConnected) return;
    const focused = shown.contains(document.activeElement);
    const next = build();
    shown.replaceWith(next);
    shown = next;
    if (focused) next.querySelector('h1').focus();
  });
  return shown;
}
