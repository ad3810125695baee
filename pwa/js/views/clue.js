// File a clue (强制报告): one tap on the red button, type what happened, one tap to send. Opened from
// a visit that found signs of abuse, it comes prefilled with the child and linked to that visit.
import { h, field, fmtTime, page, isoNow, moveOn, onSave, toast } from '../ui.js';
import * as store from '../store.js';
import { sync } from '../sync.js';
import { cluePrompt, signsOf } from '../clue-prompt.js';

/** What the visit `visitId` gives the form: the line naming it, and the text and place to start from. */
async function fromVisit(visitId, child) {
  if (!visitId) return { source: null, description: '', place: '' };
  const visit = store.one('visit', visitId);
  const home = child ? store.one('household', child.household_id) : null;
  const signs = visit ? signsOf(await cluePrompt(), visit.answers, child) : [];
  const when = visit ? `${fmtTime(visit.visited_at)} ` : '';
  // Neither on the phone any more (the child moved out of the worker's grids): the visit is still hers.
  const whose = child || visit ? `${child ? ` ${child.name} ` : ''}${when}` : '您此前';
  return {
    source: h('p', { class: 'banner info', 'data-testid': 'clue-source' },
      `来自${whose}的走访记录，报告将与该走访关联。`),
    description: signs.length ? `入户走访发现：${signs.map((s) => s.label).join('、')}。` : '',
    place: (home && home.address) || '',
  };
}

export async function render(childId = '', visitId = '') {
  const linked = store.one('child', childId);
  const start = await fromVisit(visitId, linked);
  const description = h('textarea', { name: 'description', rows: '5', maxlength: '4000', required: true, autofocus: true,
    value: start.description || null });
  const kids = store.children();
  if (linked && !kids.includes(linked)) kids.unshift(linked);
  const child = h('select', { name: 'child_id' }, h('option', { value: '' }, '不指定 / 不在名单中'),
    kids.map((c) => h('option', { value: c.id, selected: c.id === childId }, c.name)));
  const place = h('input', { name: 'place', maxlength: '300', autocomplete: 'off', value: start.place || null });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack' },
    h('p', {}, '发现未成年人遭受或疑似遭受侵害、处于危险之中，请立即报告。紧急情况请同时拨打 110。'), start.source,
    field('发生了什么（必填）', description), field('涉及儿童（可选）', child), field('地点（可选）', place), error,
    h('button', { type: 'submit', class: 'btn danger wide' }, '提交报告'));
  onSave(form, async () => {
    if (!description.value.trim()) { error.textContent = '请简要写明发生了什么'; description.focus(); return false; }
    await store.create('clue', { description: description.value.trim(), child_id: child.value || null,
      place: place.value.trim() || null, happened_at: isoNow(), ...(visitId ? { source_visit_id: visitId } : {}) },
    [], [], form);
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
