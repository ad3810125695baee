// One venue: its open violations and its inspections, newest first; a corrected inspection stays,
// muted, under the correction that replaced it, and the inspector corrects their own synced ones.
// Then the record checks of its staff (从业人员查询) the phone holds, newest first.
import { h, page, fmtDate, fmtTime, syncTag, today } from '../ui.js';
import * as store from '../store.js';
import * as state from '../state.js';
import * as api from '../api.js';
import { errorText } from '../online.js';
import { newestFirst } from '../amend.js';
import { openChains, openViolations } from '../violations.js';
import { STAFF_RESULT, VENUE_TYPE } from '../i18n/zh-CN.js';

// Who records inspections (the server refuses any other role's): the others read venues only.
const INSPECTING_ROLES = ['inspector', 'town_admin'];
export const mayInspect = () => INSPECTING_ROLES.includes((state.get().user || {}).role);
// Who records staff checks (scope.WRITE_ROLES on the server).
const STAFF_CHECKING_ROLES = ['inspector', 'village_head', 'town_admin'];
export const mayCheckStaff = () => STAFF_CHECKING_ROLES.includes((state.get().user || {}).role);
/** The unit whose own staff an inspector checks (a school's, a clinic's), or null. */
export const myUnit = () => {
  const user = state.get().user || {};
  return user.role === 'inspector' ? (user.scope || {}).unit_id || null : null;
};

/** `wordsOf(inspection, venue)`: the labels of the checklist the inspection answered, by item key
 *  (one not synced yet answered its venue type's). Keys shared by several checklists (minor_sign)
 *  are worded by each its own way. */
export async function checklistWords() {
  const templates = (await store.reference('templates')) || [];
  const labels = new Map(templates.map((t) => [t.key, new Map((t.items || []).map((x) => [x.key, x.label]))]));
  const ofType = (type) => (templates.find((t) => (t.venue_types || []).includes(type)) || {}).key;
  return (inspection, venue) => labels.get(inspection.template_key || ofType(venue.type)) || new Map();
}

function findings(i, words) {
  const failed = (i.answers || []).filter((a) => a.result === 'fail')
    .map((a) => `${words.get(a.item) || a.item}${a.note ? `（${a.note}）` : ''}`);
  return failed.length ? `不合格 ${failed.length} 项：${failed.join('、')}` : '无不合格项';
}

/** An inspection's photos on asking: they are kept on the server only (the phone's own go up with
 *  the inspection and are dropped once uploaded), so they are shown online. */
function photosButton(i) {
  const box = h('div', { 'data-testid': 'photos', 'aria-live': 'polite' });
  const say = (text) => box.replaceChildren(h('p', { class: 'meta' }, text));
  const button = h('button', { type: 'button', class: 'btn small', 'aria-label': `查看照片（${fmtTime(i.inspected_at)} 的检查）`,
    onclick: async () => {
      if (!navigator.onLine) { say('联网后才能查看照片。'); return; }
      button.disabled = true;
      try {
        const { rows } = await api.get(`/api/inspections/${encodeURIComponent(i.id)}/photos`);
        if (!rows.length) say('这次检查没有照片。');
        else {
          box.replaceChildren(h('ul', { class: 'thumbs' }, rows.map((p, n) => h('li', {},
            h('img', { src: `/api/photos/${encodeURIComponent(p.id)}`, alt: `照片 ${n + 1}` })))));
        }
      } catch (e) {
        say(errorText(e));
      }
      button.disabled = false;
    } }, '查看照片');
  return [button, box];
}

function inspectionItem(i, amended, me, words) {
  const superseded = amended.has(i.id);
  const mine = !i.inspector_id || i.inspector_id === me;
  return h('li', { class: superseded ? 'item superseded' : 'item', 'data-testid': 'inspection', 'data-inspection': i.id },
    h('strong', {}, fmtTime(i.inspected_at)), h('span', { class: 'meta' }, findings(i, words)),
    h('span', { class: 'meta' }, i.notes || '（无备注）'),
    superseded ? h('span', { class: 'tag' }, '已更正') : null,
    i.reinspection_of ? h('span', { class: 'tag' }, '复查') : null,
    i.amends ? h('span', { class: 'tag' }, '更正') : null,
    syncTag(store.syncState('inspection', i)),
    i.amends ? h('span', { class: 'meta' }, `更正原因：${i.amend_reason || '—'}`) : null,
    i._pending ? null : photosButton(i),
    i._pending || superseded ? null : h('a', { class: 'btn small', href: `#/minor/${i.venue_id}/${i.id}`,
      'aria-label': `发现未成年人（${fmtTime(i.inspected_at)} 的检查）` }, '发现未成年人'),
    mine && !superseded && !i._pending
      ? h('a', { class: 'btn small amend', href: `#/inspect/${i.venue_id}/amend/${i.id}`,
        'aria-label': `更正 ${fmtTime(i.inspected_at)} 的检查` }, '更正') : null);
}

/** One staff check: who, the result (a record found stands out), when, and when it is due again; one
 *  a later check of the person took the place of (`rechecked`) is due no more. */
function staffCheckItem(c, rechecked) {
  const due = !rechecked && c.next_due && c.next_due <= today();
  return h('li', { class: 'item', 'data-testid': 'staff-check', 'data-staff-check': c.id },
    h('strong', {}, c.person_name),
    h('span', { class: c.result === 'record_found' ? 'tag high' : 'tag', 'data-testid': 'staff-result' },
      STAFF_RESULT[c.result] || c.result),
    due ? h('span', { class: 'tag high' }, '应再次查询') : null,
    rechecked ? h('span', { class: 'tag' }, '已复查') : null,
    syncTag(store.syncState('staff_check', c)),
    h('span', { class: 'meta' }, `身份证号 ${c.id_number || '—'}`),
    h('span', { class: 'meta' }, `查询日期 ${c.checked_on} · 下次查询 ${c.next_due || '查询日期后一年'}`));
}

/** The staff checks of venue `id` (or, `kind` 'unit', of the user's own unit), with the way to record one. */
export function staffSection(id, kind = 'venue') {
  const checks = store.staffChecksOf(id, kind);
  // Newest first: a check of a person (by name and ID number, masked as the phone holds it) already
  // met is an earlier one, which the newer took the place of (casework.standing_check_condition).
  const seen = new Set();
  const rechecked = new Set(checks.filter((c) => {
    const person = `${c.person_name}|${c.id_number}`;
    const again = seen.has(person);
    seen.add(person);
    return again;
  }).map((c) => c.id));
  return h('section', { 'aria-labelledby': 'staff-h', 'data-testid': 'staff-checks' },
    h('h2', { id: 'staff-h' }, `从业人员查询（${checks.length}）`),
    mayCheckStaff() ? h('p', {}, h('a', { class: 'btn', href: kind === 'unit' ? '#/staff/unit/new' : `#/staff/${id}` },
      '记录从业人员查询')) : null,
    checks.length ? h('ul', { class: 'list' }, checks.map((c) => staffCheckItem(c, rechecked.has(c.id))))
      : h('p', {}, '暂无从业人员查询记录。'));
}

/** One 复查 for each chain with open items (a re-inspection closes its own chain's only), named by
 *  its inspection's day when there are several. */
export function reinspections(v, open) {
  const chains = openChains(v.id, open);
  return chains.map(({ inspection, items }) => {
    const late = items.some((x) => x.deadline && x.deadline < today()) ? '，已逾期' : '';
    return h('a', { class: 'btn reinspect', href: `#/inspect/${v.id}/${inspection.id}` }, chains.length > 1
      ? `复查 ${fmtDate(inspection.inspected_at)} 的检查（${items.length} 项${late}）` : '复查');
  });
}

export async function render(id) {
  const v = store.one('venue', id);
  if (!v) return page('未找到', h('p', {}, '这个场所不在本机数据中。'), h('a', { href: '#/venues' }, '返回场所列表'));
  const wordsOf = await checklistWords();
  const inspections = store.inspectionsOf(id).sort(newestFirst('inspected_at'));
  const amended = store.amendedIds('inspection');
  const me = (state.get().user || {}).id;
  const open = openViolations(id);
  const overdue = open.some((x) => x.deadline && x.deadline < today());
  return page(v.name,
    h('p', { class: 'meta' }, [VENUE_TYPE[v.type] || v.type, v.address, v.status === 'closed' ? '已停业' : null]
      .filter(Boolean).join(' · ')),
    h('p', { class: 'row' }, mayInspect() ? h('a', { class: 'btn primary', href: `#/inspect/${id}` }, '检查') : null,
      mayInspect() ? reinspections(v, open) : null,
      open.length ? h('span', { class: 'tag high', 'data-testid': 'open-violations' },
        `待整改 ${open.length}${overdue ? '（已逾期）' : ''}`) : null),
    h('h2', {}, `检查记录（${inspections.length}）`),
    inspections.length ? h('ul', { class: 'list' }, inspections.map((i) => inspectionItem(i, amended, me, wordsOf(i, v))))
      : h('p', {}, '暂无检查记录。'),
    staffSection(id));
}
