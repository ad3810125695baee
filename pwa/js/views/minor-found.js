// 发现未成年人: a minor found in a venue at an inspection, reported to the police station at once as a
// clue (强制报告) tied to the inspection; a name or ID number lets the server find the minor in the
// register (the answer never says whether it did). Online only: offline, the 强制报告 form keeps a report.
import { h, field, fmtTime, moveOn, onSave, page, toast } from '../ui.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { newId } from '../crypto.js';
import { errorText } from '../online.js';

const OFFLINE = '没有网络，无法报告。紧急情况请点“强制报告”（可离线保存）或拨打 110。';

/** `#/minor/{venue}/{inspection}`. */
export function render(venueId, inspectionId) {
  const v = store.one('venue', venueId);
  const inspection = store.one('inspection', inspectionId);
  if (!v || !inspection || inspection.venue_id !== venueId) {
    return page('未找到', h('p', {}, '这次检查不在本机数据中。'), h('a', { href: '#/venues' }, '返回场所列表'));
  }
  const description = h('textarea', { name: 'description', rows: '4', maxlength: '4000', required: true });
  const name = h('input', { name: 'name', maxlength: '50', autocomplete: 'off' });
  const idNumber = h('input', { name: 'id_number', maxlength: '18', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  const id = newId();  // one report however often the button is pressed (a lost answer, a retry)
  const form = h('form', { class: 'stack', novalidate: true },
    h('p', { class: 'banner info', 'data-testid': 'minor-source' },
      `${v.name} · ${fmtTime(inspection.inspected_at)} 的检查。报告将立即送达派出所，并与这次检查关联。`),
    field('发现的情况（必填）', description), field('未成年人姓名（可选）', name),
    field('身份证号（可选）', idNumber, '知道时填写，便于核对是否已登记'), error,
    h('button', { type: 'submit', class: 'btn danger wide' }, '报告公安机关'));
  onSave(form, async () => {
    error.textContent = !description.value.trim() ? '请简要写明发现的情况' : !navigator.onLine ? OFFLINE : '';
    if (error.textContent) return false;
    try {
      await api.post(`/api/inspections/${encodeURIComponent(inspectionId)}/minor-found`, { id,
        description: description.value.trim(), name: name.value.trim() || null,
        id_number: idNumber.value.trim().toUpperCase() || null });
    } catch (e) {
      // Its id taken: this form's report was filed by a try whose answer was lost on the way back.
      if (!(e && e.code === 'id_exists')) {
        error.textContent = e && e.status === 0 ? OFFLINE : errorText(e);
        return false;
      }
    }
    toast('已报告公安机关');
    moveOn(form, `#/venue/${venueId}`);
  });
  return page('发现未成年人', form);
}
