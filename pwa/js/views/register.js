// Register a household (with its first child) or a child in a household already on the phone, and
// correct a registration the server refused (#/register/<op id>, from the sync screen).
import { h, field, page, checkbox, isoNow, moveOn, onSave, showProblems, toast } from '../ui.js';
import * as db from '../db.js';
import * as store from '../store.js';
import * as sync from '../sync.js';
import { newId } from '../crypto.js';
import { savingDraft } from '../drafts.js';
import { CATEGORY, fieldName } from '../i18n/zh-CN.js';
import { birthAgainstIdProblem, birthDateProblem, idNumberProblem, phoneProblem, plain } from '../checks.js';


const select = (name, options, value) => h('select', { name },
  options.map(([v, text]) => h('option', { value: v, selected: v === value ? true : null }, text)));

/** A child's fields, filled with `c` (a refused registration's, to correct). */
function childFields(c = {}) {
  return [
    field('儿童姓名', h('input', { name: 'name', maxlength: '50', required: true, autocomplete: 'off', value: c.name || '' })),
    field('身份证号（可不填）', h('input', { name: 'id_number', inputmode: 'numeric', autocomplete: 'off', value: c.id_number || '' })),
    field('出生日期', h('input', { name: 'birth_date', type: 'date', value: c.birth_date || '' })),
    field('性别', select('sex', [['', '未填'], ['F', '女'], ['M', '男']], c.sex || '')),
    field('学校', h('input', { name: 'school', maxlength: '100', autocomplete: 'off', value: c.school || '' })),
    h('fieldset', { class: 'choices' }, h('legend', {}, '类别'),
      Object.entries(CATEGORY).map(([k, text]) => checkbox(text, `cat:${k}`, (c.categories || []).includes(k)))),
  ];
}

/** The child's fields as the form holds them. */
function readChild(form) {
  const v = (n) => form.elements[n].value.trim() || null;
  return { name: v('name'), id_number: plain(form.elements.id_number.value).toUpperCase() || null,
    birth_date: v('birth_date'), sex: v('sex'), school: v('school'),
    categories: Object.keys(CATEGORY).filter((k) => form.elements[`cat:${k}`].checked) };
}

/** What the server would refuse in the child's fields, by control name (null: nothing); what
 *  must be filled in is said by the form. */
function childProblems(form) {
  const f = form.elements;
  const id = plain(f.id_number.value);
  return { id_number: id ? idNumberProblem(id) : null,
    birth_date: f.birth_date.value ? birthDateProblem(f.birth_date.value) || birthAgainstIdProblem(id, f.birth_date.value)
      : null };
}

// The first guardian's controls keep the names a draft typed before knows them by.
const guardianName = (what, i) => (i ? `g_${what}:${i}` : `g_${what}`);

/** The places the phone knows, as [grid id, words], the household's own first should the phone not know
 *  it (taken from the worker since): kept, so that nothing moves the household unasked, but named in words. */
async function gridChoices(own = null) {
  const villages = (await store.reference('places')) || [];
  const grids = villages.flatMap((v) => (v.grids || []).map((g) => [g.id, `${v.name} ${g.name}`]));
  return own && !grids.some(([id]) => id === own) ? [[own, '原登记的网格（已不在您的管辖范围内）'], ...grids] : grids;
}

/** A new household's fields, filled with `hh` (a refused registration's), one set per guardian. */
function householdFields(grids, hh = {}) {
  const guardians = hh.guardians && hh.guardians.length ? hh.guardians : [{}];
  const nth = (i) => (guardians.length > 1 ? `（${i + 1}）` : '');
  return [
    field('所属网格', select('grid_id', grids, hh.grid_id || (grids[0] && grids[0][0]))),
    field('家庭住址', h('input', { name: 'address', maxlength: '200', autocomplete: 'off', value: hh.address || '' })),
    guardians.map((g, i) => [
      field(`监护人姓名${nth(i)}`, h('input', { name: guardianName('name', i), maxlength: '50', autocomplete: 'off', value: g.name || '' })),
      field(`与儿童关系${nth(i)}`, h('input', { name: guardianName('relation', i), maxlength: '20', autocomplete: 'off',
        placeholder: '如 祖父', value: g.relation || '' })),
      field(`监护人电话${nth(i)}`, h('input', { name: guardianName('phone', i), type: 'tel', autocomplete: 'off', value: g.phone || '' })),
    ]),
  ];
}

const guardianCount = (form) => form.querySelectorAll('input[name^="g_name"]').length;

/** The household's fields as the form holds them; a guardian without a name is left out. */
function readHousehold(form) {
  const f = form.elements;
  const guardians = [];
  for (let i = 0; i < guardianCount(form); i += 1) {
    const name = f[guardianName('name', i)].value.trim();
    if (name) {
      guardians.push({ name, relation: f[guardianName('relation', i)].value.trim() || '监护人',
        phone: plain(f[guardianName('phone', i)].value) || null });
    }
  }
  return { grid_id: f.grid_id.value, address: f.address.value.trim(), guardians };
}

/** What the server would refuse in the household's guardians, by control name (null: nothing). */
function householdProblems(form) {
  const f = form.elements;
  const problems = {};
  for (let i = 0; i < guardianCount(form); i += 1) {
    const phone = plain(f[guardianName('phone', i)].value);
    problems[guardianName('phone', i)] = phone ? phoneProblem(phone) : null;
  }
  return problems;
}

const FIX_FIELDS = '请按标出的提示修改后再保存';

/** What must be filled in and is not, in words, or null: the child's fields and the household's, as the form has them. */
function missing(form, child, household) {
  const f = form.elements;
  if (child && !f.name.value.trim()) return '请填写儿童姓名';
  return household && (!f.address.value.trim() || !f.grid_id.value) ? '请选择网格并填写住址' : null;
}

export async function render(opId) {
  if (opId) return correction(opId);
  const grids = await gridChoices();
  // By address, 2组 before 10组, each with the guardian the worker knows the family by.
  const households = store.all('household').map((hh) => {
    const guardian = ((hh.guardians || [])[0] || {}).name;
    return [hh.id, `${hh.address || '（无住址）'}${guardian ? `（${guardian}）` : ''}`, hh.address || ''];
  }).sort((a, b) => a[2].localeCompare(b[2], 'zh-CN', { numeric: true })).map(([id, words]) => [id, words]);
  const mode = h('select', { name: 'mode' }, h('option', { value: 'new' }, '新家庭（同时登记一名儿童）'),
    households.length ? h('option', { value: 'existing' }, '已有家庭') : null);
  const newBox = h('div', { class: 'stack' }, householdFields(grids));
  const oldBox = h('div', { class: 'stack', hidden: true }, field('选择家庭', select('household_id', households, null)));
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' }, field('登记方式', mode), newBox, oldBox,
    h('h2', {}, '儿童信息'), childFields(), error, h('button', { type: 'submit', class: 'btn primary wide' }, '保存登记'));
  mode.addEventListener('change', () => { newBox.hidden = mode.value !== 'new'; oldBox.hidden = mode.value === 'new'; });
  onSave(form, async () => {
    const isNew = mode.value === 'new';
    const unfilled = missing(form, true, isNew);
    if (unfilled) { error.textContent = unfilled; return false; }
    const ofHousehold = householdProblems(form);
    // A household not registered here is not checked here: its fields are hidden and not saved.
    if (!isNew) Object.keys(ofHousehold).forEach((k) => { ofHousehold[k] = null; });
    error.textContent = '';
    if (showProblems(form, { ...ofHousehold, ...childProblems(form) })) { error.textContent = FIX_FIELDS; return false; }
    const child = { ...readChild(form), registered_at: isoNow() };
    if (isNew) {
      const householdId = newId();
      await store.create('household', { id: householdId, ...readHousehold(form) },
        [{ entity: 'child', id: newId(), data: { household_id: householdId, ...child } }], [], form);
    } else {
      await store.create('child', { household_id: form.elements.household_id.value, ...child }, [], [], form);
    }
    toast('登记已保存在本机，待同步');
    moveOn(form, '#/children');
  });
  return page('登记家庭或儿童', form);
}

/** Which control of the form shows the server's reason for `key` (guardians.0.phone: g_phone). */
function controlOf(key) {
  const m = /^guardians\.(\d+)\.(name|relation|phone)$/.exec(key);
  return m ? guardianName(m[2], Number(m[1])) : key;
}

/** Whether a refused op is a registration the worker can correct here. */
export const correctable = (op) => op.action === 'create' && (op.entity === 'child' || op.entity === 'household');

/** A refused registration: its form with what was entered and the server's reasons at their fields.
 *  Saved, it goes back in the queue under the same record id, so what was filed on it still names
 *  it; the outbox keeps it throughout. */
async function correction(opId) {
  const op = (await db.outboxByState('rejected')).find((o) => o.op_id === opId);
  if (!op || !correctable(op)) {
    return page('修改登记', h('p', {}, '这条被退回的登记已经处理过（已重新提交或已放弃）。'),
      h('a', { href: '#/sync' }, '返回同步状态'));
  }
  const child = op.entity === 'child';
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' },
    h('p', { class: 'banner muted' }, '服务器退回了这条登记，原因标在对应栏目下。修改后保存即重新提交；'
      + '记在它上面、因它被退回的走访和线索，会在它同步成功后自动重新提交。'),
    child ? childFields(op.data) : householdFields(await gridChoices(op.data.grid_id), op.data),
    error, h('button', { type: 'submit', class: 'btn primary wide' }, '保存并重新提交'));
  const atFields = {};
  const elsewhere = [];
  for (const [key, messages] of Object.entries(op.errors || {})) {
    const name = controlOf(key);
    if (form.elements[name] && form.elements[name].closest) atFields[name] = messages.join('，');
    else {
      const named = key.startsWith('_') ? null : fieldName(key, (op.data.guardians || []).length);
      elsewhere.push(named ? `${named}：${messages.join('，')}` : messages.join('，'));
    }
  }
  showProblems(form, atFields, false);
  error.textContent = elsewhere.join('；');
  onSave(form, async () => {
    const unfilled = missing(form, child, !child);
    if (unfilled) { error.textContent = unfilled; return false; }
    error.textContent = '';
    if (showProblems(form, child ? childProblems(form) : householdProblems(form))) { error.textContent = FIX_FIELDS; return false; }
    const data = { ...op.data, ...(child ? readChild(form) : readHousehold(form)) };
    if (!await db.correctOp(opId, data, savingDraft(form))) {
      error.textContent = '这条登记刚被重新提交或放弃（可能在另一个页面），这次修改没有保存。';
      return false;
    }
    await store.load().catch(() => {});
    toast('登记已修改，待同步');
    moveOn(form, '#/sync');
    sync.sync();
  });
  return page(child ? '修改儿童登记' : '修改家庭登记', form);
}
