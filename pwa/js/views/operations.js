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
    syncTag(store.syncState('joint_operation', op)));
}

function operationForm() {
  // Logged once carried out: a day ahead would count as this month's operation done (the server refuses it).
  const date = h('input', { type: 'date', name: 'date', required: true, value: today(), max: today() });
  const lead = h('input', { name: 'lead_unit', maxlength: '100', autocomplete: 'off' });
  const units = h('input', { name: 'units', maxlength: '1000', autocomplete: 'off' });
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '4000' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack card', novalidate: true, 'aria-labelledby': 'new-op-h' }, h('h2', { id: 'new-op-h' }, '登记联合执法行动'),
    field('行动日期', date), field('牵头单位', lead), field('参加单位', units, '多个单位用顿号或逗号分开'),
    field('行动内容', notes), error, h('button', { type: 'submit', class: 'btn primary wide' }, '登记行动'));
  onSave(form, async () => {
    const leadUnit = lead.value.trim();
    const others = units.value.split(UNIT_SEPARATORS).map((u) => u.trim()).filter(Boolean);
    error.textContent = !date.value ? '请选择行动日期' : date.value > today() ? '行动日期不能晚于今天'
      : !leadUnit ? '请填写牵头单位'
      : [leadUnit, ...others].some((u) => u.length > 100) ? '单位名称不能超过 100 个字' : '';
    if (error.textContent) return false;
    const me = state.get().user || {};
    await store.create('joint_operation', { date: date.value, lead_unit: leadUnit,
      units: [...new Set([leadUnit, ...others])], member_ids: me.role === 'inspector' ? [me.id] : [],
      notes: notes.value.trim() || null }, [], [], form);
    toast('联合执法行动已保存在本机，待同步');
    moveOn(form, '#/venues');
  });
  return form;
}

export function render() {
  const amended = store.amendedIds('inspection');
  const standing = store.counted('inspection', store.all('inspection')).filter((i) => !amended.has(i.id));
  const venuesIn = (id) => new Set(standing.filter((i) => i.operation_id === id).map((i) => i.venue_id)).size;
  const operations = store.all('joint_operation').sort((a, b) => String(b.date).localeCompare(String(a.date)));
  return page('联合执法行动',
    operations.length ? h('ul', { class: 'list' }, operations.map((op) => operationItem(op, venuesIn)))
      : h('p', {}, '暂无联合执法行动记录。'),
    mayInspect() ? operationForm() : null);
}
