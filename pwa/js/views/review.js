// 待审核走访: visits the server flagged, and corrections of visits under review; the village head
// accepts them or questions them back (the town office those a head recorded: the server says which
// a caller may decide).
import { h, field, page, fmtTime, toast } from '../ui.js';
import * as api from '../api.js';
import { FLAG, T } from '../i18n/zh-CN.js';
import { decides, errorText, failure, offlineNotice } from '../online.js';

function facts(v) {
  const where = `距住址约 ${v.distance_m == null ? '—' : Math.round(v.distance_m)} 米（精度 ±${v.accuracy_m == null ? '—' : Math.round(v.accuracy_m)} 米）`;
  return h('dl', { class: 'kv' },
    h('dt', {}, '走访人'), h('dd', {}, v.worker_name || '—'),
    h('dt', {}, '走访时间'), h('dd', {}, fmtTime(v.visited_at)),
    h('dt', {}, '上传时间'), h('dd', {}, fmtTime(v.received_at)),
    // Without a fix the 没有定位 tag already says so.
    v.lat == null ? null : [h('dt', {}, '位置'), h('dd', {}, where)],
    h('dt', {}, '走访情况'), h('dd', {}, v.notes || '（无）'),
    // A correction of a visit under review waits for the head too, flagged or not.
    v.amends ? [h('dt', {}, '更正原因'), h('dd', { 'data-testid': 'review-amend' }, v.amend_reason || '—')] : null);
}

function item(v, onDone) {
  const note = h('textarea', { name: 'note', rows: '2', maxlength: '1000' });
  const out = h('p', { class: 'error', role: 'alert' });
  const li = h('li', { class: 'card', 'data-testid': 'review-item', 'data-visit': v.id });
  const act = (decision) => async () => {
    out.textContent = '';
    if (decision === 'question' && !note.value.trim()) { out.textContent = '请写明存疑的原因，网格员会看到它'; note.focus(); return; }
    for (const b of li.querySelectorAll('button')) b.disabled = true;
    try {
      await api.post(`/api/visits/${v.id}/review`, { decision, note: note.value.trim() || null });
      toast(decision === 'accept' ? '已通过' : '已退回网格员核实');
      onDone(li);
    } catch (e) {
      out.textContent = errorText(e);
      for (const b of li.querySelectorAll('button')) b.disabled = false;
    }
  };
  li.append(
    h('h2', {}, v.child_id ? h('a', { href: `#/child/${v.child_id}` }, v.child_name || '（未知儿童）') : '（未关联儿童）'),
    h('p', { class: 'row' }, v.amends ? h('span', { class: 'tag' }, '更正') : null,
      (v.flags || []).map((f) => h('span', { class: 'tag high' }, FLAG[f] || f))),
    facts(v));
  if (v.may_decide) {
    const form = h('form', {}, field('审核意见（存疑时必填）', note), out, h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn primary', onclick: act('accept') }, '通过'),
      h('button', { type: 'button', class: 'btn', onclick: act('question') }, '存疑，退回核实')));
    // A dirty form keeps a background sync from re-rendering away the note being typed (app.js).
    form.addEventListener('input', () => form.setAttribute('data-dirty', ''));
    form.addEventListener('submit', (e) => e.preventDefault());
    li.append(form);
  } else if (decides()) {
    li.append(h('p', { class: 'hint' }, '您本人记录的走访，由镇平安办审核。'));
  }
  return li;
}

export async function render() {
  const body = page(T.review);
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  let data;
  try { data = await api.get('/api/review/visits?per_page=100'); } catch (e) { body.append(failure(e)); return body; }
  const count = h('p', { 'aria-live': 'polite', 'data-testid': 'review-count' });
  const list = h('ul', { class: 'list' });
  let left = data.total;
  const show = () => { count.textContent = left ? `共 ${left} 条走访等待审核。` : '没有待审核的走访。'; };
  const done = (li) => { li.remove(); left -= 1; show(); };
  list.append(...data.rows.map((v) => item(v, done)));
  show();
  const hint = '由村/社区负责人审核；负责人本人记录的走访由镇平安办审核。';
  body.append(count, ...(decides() ? [] : [h('p', { class: 'hint' }, hint)]), list);
  return body;
}
