// File a clue (强制报告): one tap on the red button, type what happened, one tap to send.
import { h, field, page, isoNow, moveOn, onSave, toast } from '../ui.js';
import * as store from '../store.js';
import { sync } from '../sync.js';

export function render() {
  const description = h('textarea', { name: 'description', rows: '5', maxlength: '4000', required: true, autofocus: true });
  const kids = store.children();
  const child = h('select', { name: 'child_id' }, h('option', { value: '' }, '不指定 / 不在名单中'),
    kids.map((c) => h('option', { value: c.id }, c.name)));
  const place = h('input', { name: 'place', maxlength: '300', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' },
    h('p', {}, '发现未成年人遭受或疑似遭受侵害、处于危险之中，请立即报告。紧急情况请同时拨打 110。'),
    field('发生了什么（必填）', description), field('涉及儿童（可选）', child), field('地点（可选）', place), error,
    h('button', { type: 'submit', class: 'btn danger wide' }, '提交报告'));
  onSave(form, async () => {
    if (!description.value.trim()) { error.textContent = '请简要写明发生了什么'; description.focus(); return false; }
    await store.create('clue', { description: description.value.trim(), child_id: child.value || null,
      place: place.value.trim() || null, happened_at: isoNow() }, [], [], form);
    // A report does not wait for the next scheduled sync.
    if (navigator.onLine) {
      toast('报告已保存，正在报送公安机关');
      sync();
    } else {
      toast('报告已保存在本机，联网后立即报送公安机关');
    }
    moveOn(form, () => history.back());
  });
  setTimeout(() => description.focus(), 0);
  return page('强制报告', form);
}
