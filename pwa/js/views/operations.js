// 联合执法行动: the joint operations the phone holds, newest first, with how many venues each one's
// inspections covered; an inspector or the town office logs one here, offline too (it syncs as any
// record), and the day's inspections are then counted in it (我的场所, the inspection form).
import { h, field, page, today, moveOn, onSave, syncTag, toast } from '../ui.js';
import * as store from '../store.js';
import * as state from '../state.js';
import { mayInspect } from './venue.js';

// Units are typed as people list them: 市场监管所、民政办 or with commas.
const UNIT_SEPARATORS = /[、，,；;\s]+/;

function operationItem(op, venuesIn) {
  const units = (op.units || []).filter((u) => u && u !== op.lead_unit);
  return h('li', { class: 'item', 'data-testid': 'operation' },
    h('strong', {}, `${op.date} · 牵头单位：${op.lead_unit}`),
    units.length ? h('span', { class: 'meta' }, `参加单位：${units.join('、')}`) : null,
    op.notes ? h('span', { class: 'meta' }, op.notes) : null,
    h('span', { class: 'meta' }, `检查场所 ${venuesIn(op.id)} 家`),
    syncTag(store.syncState('joint_operation', op)),
    mayInspect() && !store.refused('joint_operation', op.id)
      ? h('a', { class: 'btn small', href: `#/operations/${op.id}`, 'aria-label': `修改 ${op.date} 的行动` }, '修改') : null);
}

/** The form that logs an operation, or corrects `op` (a typo in a unit, the wrong day): an edit
 *  syncs as any, and one made elsewhere meanwhile comes back as a conflict, not overwritten. */
function operationForm(op = null) {
  // Logged once carried out: a day ahead would count as this month's operation done (the server refuses it).
  const date = h('input', { type: 'date', name: 'date', required: true, value: op ? op.date : today(), max: today() });
  const lead = h('input', { name: 'lead_unit', maxlength: '100', autocomplete: 'off', value: op ? op.lead_unit : '' });
  const others = op ? (op.units || []).filter((u) => u && u !== op.lead_unit).join('、') : '';
  const units = h('input', { name: 'units', maxlength: '1000', autocomplete: 'off', value: others });
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '4000', value: op ? op.notes || '' : '' });
  const error = h('p', { class: 'error', role: 'alert' });
  const heading = op ? `${op.date} 的行动` : '登记联合执法行动';
  const form = h('form', { class: 'stack card', novalidate: true, 'aria-labelledby': 'op-form-h' }, h('h2', { id: 'op-form-h' }, heading),
    field('行动日期', date), field('牵头单位', lead), field('参加单位', units, '多个单位用顿号或逗号分开'),
    field('行动内容', notes), error, h('button', { type: 'submit', class: 'btn primary wide' }, op ? '保存修改' : '登记行动'));
  onSave(form, async () => {
    const leadUnit = lead.value.trim();
    const listed = units.value.split(UNIT_SEPARATORS).map((u) => u.trim()).filter(Boolean);
    error.textContent = !date.value ? '请选择行动日期' : date.value > today() ? '行动日期不能晚于今天'
      : !leadUnit ? '请填写牵头单位'
        : [leadUnit, ...listed].some((u) => u.length > 100) ? '单位名称不能超过 100 个字' : '';
    if (error.textContent) return false;
    // Units as stored unless the worker changed them: an API's list may lack the lead or hold spaces.
    const kept = op && units.value === others && leadUnit === op.lead_unit;
    const data = { date: date.value, lead_unit: leadUnit, units: kept ? op.units : [...new Set([leadUnit, ...listed])],
      notes: notes.value.trim() || null };
    if (op) {
      const saved = await store.update('joint_operation', op.id, data, form, op);
      if (saved === 'gone') {
        error.textContent = '这次行动已不在本机（可能已被删除），修改未保存';
        return false;
      }
      if (saved === 'same') {
        form.removeAttribute('data-dirty');
        toast('没有修改');
        return false;
      }
      toast('行动的修改已保存在本机，待同步');
      moveOn(form, '#/operations');
      return true;
    }
    const me = state.get().user || {};
    await store.create('joint_operation', { ...data, member_ids: me.role === 'inspector' ? [me.id] : [] }, [], [], form);
    toast('联合执法行动已保存在本机，待同步');
    moveOn(form, '#/venues');
  });
  return form;
}

/** `#/operations`, or `#/operations/{id}` to correct one. */
export function render(id) {
  if (id) {
    const op = store.one('joint_operation', id);
    if (!op || !mayInspect()) return page('未找到', h('p', {}, '这次行动不在本机数据中。'), h('a', { href: '#/operations' }, '返回联合执法行动'));
    return page('修改联合执法行动', operationForm(op));
  }
  const amended = store.amendedIds('inspection');
  const standing = store.counted('inspection', store.all('inspection')).filter((i) => !amended.has(i.id));
  const venuesIn = (opId) => new Set(standing.filter((i) => i.operation_id === opId).map((i) => i.venue_id)).size;
  const operations = store.all('joint_operation').sort((a, b) => String(b.date).localeCompare(String(a.date)));
  return page('联合执法行动',
    operations.length ? h('ul', { class: 'list' }, operations.map((op) => operationItem(op, venuesIn)))
      : h('p', {}, '暂无联合执法行动记录。'),
    mayInspect() ? operationForm() : null);
}
