// Record a record check (从业人员查询) of someone who works at a venue, or in the inspector's own unit (a
// school's, a clinic's staff), offline like any record: the outbox sends it. The phone keeps the ID
// number masked as the server shows it; the op alone holds it whole.
import { h, field, page, radios, addDays, moveOn, onSave, showProblems, toast, today } from '../ui.js';
import * as store from '../store.js';
import * as state from '../state.js';
import { birthDateProblem, idNumberProblem, maskIdNumber, plain } from '../checks.js';
import { STAFF_RESULT } from '../i18n/zh-CN.js';
import { mayCheckStaff, myUnit, staffSection } from './venue.js';

// casework.STAFF_RECHECK_DAYS: the server's next check when none is given, offered here to change.
const RECHECK_DAYS = 365;
const FIX_FIELDS = '请按标出的提示修改后再保存';

/** What the server would refuse in the form, by control name (null: nothing). */
function problems(f) {
  const name = f.person_name.value.trim();
  const id = plain(f.id_number.value);
  const checked = birthDateProblem(f.checked_on.value);
  const due = f.next_due.value;
  return {
    person_name: !name ? '请填写姓名' : name.includes('*') ? '姓名中不能有 *' : null,
    id_number: id ? idNumberProblem(id) : '请填写身份证号',
    checked_on: f.checked_on.value ? checked : '请填写查询日期',
    next_due: due && !checked && due < f.checked_on.value ? '下次查询日期不能早于本次查询日期'
      : due && (due < '1900-01-01' || due > '2100-12-31') ? '日期应在 1900 至 2100 年之间' : null,
  };
}

/** The next check follows the check date as the server's rule sets it, until the worker picks another. */
function followCheckDate(checked, due) {
  let before = checked.value;
  checked.addEventListener('input', () => {
    if (!due.value || due.value === addDays(before, RECHECK_DAYS)) due.value = checked.value ? addDays(checked.value, RECHECK_DAYS) : '';
    before = checked.value;
  });
}

/** The form for a check of someone employed by `employer` ({kind, id}); saved, it goes to `back`. */
function staffForm(employer, back) {
  const day = today();
  const checked = h('input', { name: 'checked_on', type: 'date', max: day, value: day, required: true });
  const due = h('input', { name: 'next_due', type: 'date', value: addDays(day, RECHECK_DAYS) });
  followCheckDate(checked, due);
  const resultBox = h('div', {}, radios('查询结果', 'result', Object.entries(STAFF_RESULT), null));
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack', 'data-draft': 'staff-check', novalidate: true },
    field('姓名', h('input', { name: 'person_name', maxlength: '50', autocomplete: 'off' })),
    field('身份证号', h('input', { name: 'id_number', autocomplete: 'off', 'data-no-draft': '', maxlength: '40' }),
      '保存后本机只保留脱敏号码；离开本页不暂存，需重新填写'),
    field('查询日期', checked), resultBox,
    field('下次查询日期', due, '默认为查询日期后一年，可修改'),
    error, h('button', { type: 'submit', class: 'btn primary wide' }, '保存查询'));
  onSave(form, async () => {
    const f = form.elements;
    const result = form.querySelector('input[name="result"]:checked');
    error.textContent = '';
    if (showProblems(form, problems(f))) { error.textContent = FIX_FIELDS; return false; }
    if (!result) { error.textContent = '请选择查询结果'; return false; }
    const idNumber = plain(f.id_number.value).toUpperCase();
    const data = { person_name: f.person_name.value.trim(), id_number: idNumber, employer_kind: employer.kind,
      employer_id: employer.id, checked_on: f.checked_on.value, result: result.value, next_due: f.next_due.value || null };
    await store.create('staff_check', data, [], [], form, { ...data, id_number: maskIdNumber(idNumber) });
    toast('从业人员查询已保存在本机，待同步');
    moveOn(form, back);
  });
  return form;
}

/** `#/staff/unit`: the checks of the inspector's own unit's staff; `#/staff/unit/new` records one. */
function unitPage(adding) {
  const unit = myUnit();
  const named = (state.get().user || {}).unit_name;
  if (!unit) return page('本单位从业人员查询', h('p', { class: 'banner warn' }, '本单位从业人员查询由所属单位的联合执法队员记录。'));
  if (adding) {
    return page('记录本单位从业人员查询', h('p', { class: 'meta' }, '记录对本单位从业人员的违法犯罪记录查询结果。'),
      staffForm({ kind: 'unit', id: unit }, '#/staff/unit'));
  }
  return page('本单位从业人员查询', h('p', { class: 'meta', 'data-testid': 'unit-name' },
    `${named || '本单位'}与未成年人密切接触的从业人员（如教职工、医护人员）的查询记录。`), staffSection(unit, 'unit'));
}

/** `#/staff/{venue}`: a new staff check of someone working at the venue; `#/staff/unit`: the own unit's. */
export async function render(venueId, sub) {
  if (venueId === 'unit') return unitPage(sub === 'new');
  const v = store.one('venue', venueId);
  if (!v) return page('未找到', h('p', {}, '这个场所不在本机数据中。'), h('a', { href: '#/venues' }, '返回场所列表'));
  if (!mayCheckStaff()) {
    return page(v.name, h('p', { class: 'banner warn' }, '从业人员查询由联合执法队员、村/社区负责人或镇平安办记录。'),
      h('p', {}, h('a', { class: 'btn link', href: `#/venue/${venueId}` }, '返回场所')));
  }
  return page(`从业人员查询 ${v.name}`, h('p', { class: 'meta' }, '记录对该场所从业人员的违法犯罪记录查询结果。'),
    staffForm({ kind: 'venue', id: v.id }, `#/venue/${v.id}`));
}
