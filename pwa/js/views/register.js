// Register a household (with its first child) or a child in a household already on the phone.
import { h, field, page, checkbox, isoNow, moveOn, onSave, toast } from '../ui.js';
import * as store from '../store.js';
import { newId } from '../crypto.js';
import { CATEGORY } from '../i18n/zh-CN.js';

const select = (name, options, value) => h('select', { name },
  options.map(([v, text]) => h('option', { value: v, selected: v === value ? true : null }, text)));

function childFields() {
  return [
    field('儿童姓名', h('input', { name: 'name', maxlength: '50', required: true, autocomplete: 'off' })),
    field('身份证号（可不填）', h('input', { name: 'id_number', inputmode: 'numeric', autocomplete: 'off' })),
    field('出生日期', h('input', { name: 'birth_date', type: 'date' })),
    field('性别', select('sex', [['', '未填'], ['F', '女'], ['M', '男']], '')),
    field('学校', h('input', { name: 'school', maxlength: '100', autocomplete: 'off' })),
    h('fieldset', { class: 'choices' }, h('legend', {}, '类别'),
      Object.entries(CATEGORY).map(([k, text]) => checkbox(text, `cat:${k}`))),
  ];
}

/** The child as registered now: out of coverage, its first visit still falls due from today. */
function readChild(form, householdId) {
  const v = (n) => form.elements[n].value.trim() || null;
  return { household_id: householdId, name: v('name'), id_number: v('id_number'), birth_date: v('birth_date'),
    sex: v('sex'), school: v('school'),
    categories: Object.keys(CATEGORY).filter((k) => form.elements[`cat:${k}`].checked), registered_at: isoNow() };
}

export async function render() {
  const villages = (await store.reference('places')) || [];
  const grids = villages.flatMap((v) => (v.grids || []).map((g) => [g.id, `${v.name} ${g.name}`]));
  const households = store.all('household').map((hh) => [hh.id, hh.address || hh.id]);
  const mode = h('select', { name: 'mode' }, h('option', { value: 'new' }, '新家庭（同时登记一名儿童）'),
    households.length ? h('option', { value: 'existing' }, '已有家庭') : null);
  const newBox = h('div', { class: 'stack' },
    field('所属网格', select('grid_id', grids, grids[0] && grids[0][0])),
    field('家庭住址', h('input', { name: 'address', maxlength: '200', autocomplete: 'off' })),
    field('监护人姓名', h('input', { name: 'g_name', maxlength: '50', autocomplete: 'off' })),
    field('与儿童关系', h('input', { name: 'g_relation', maxlength: '20', autocomplete: 'off', placeholder: '如 祖父' })),
    field('监护人电话', h('input', { name: 'g_phone', type: 'tel', autocomplete: 'off' })));
  const oldBox = h('div', { class: 'stack', hidden: true }, field('选择家庭', select('household_id', households, null)));
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' }, field('登记方式', mode), newBox, oldBox,
    h('h2', {}, '儿童信息'), childFields(), error, h('button', { type: 'submit', class: 'btn primary wide' }, '保存登记'));
  mode.addEventListener('change', () => { newBox.hidden = mode.value !== 'new'; oldBox.hidden = mode.value === 'new'; });
  onSave(form, async () => {
    const f = form.elements;
    if (!f.name.value.trim()) { error.textContent = '请填写儿童姓名'; return false; }
    if (mode.value === 'new') {
      if (!f.address.value.trim() || !f.grid_id.value) { error.textContent = '请选择网格并填写住址'; return false; }
      const householdId = newId();
      const guardians = f.g_name.value.trim() ? [{ name: f.g_name.value.trim(), relation: f.g_relation.value.trim() || '监护人',
        phone: f.g_phone.value.trim() || null }] : [];
      await store.create('household', { id: householdId, grid_id: f.grid_id.value, address: f.address.value.trim(), guardians },
        [{ entity: 'child', id: newId(), data: readChild(form, householdId) }], [], form);
    } else {
      await store.create('child', readChild(form, f.household_id.value), [], [], form);
    }
    toast('登记已保存在本机，待同步');
    moveOn(form, '#/children');
  });
  return page('登记家庭或儿童', form);
}
