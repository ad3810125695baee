// 线索: the clues filed to the station, read from the phone's store so the list opens offline;
// the police receive and close them online, the town office reads.
import { h, field, radios, page, fmtTime, confirmDialog, onSave, redrawSaved, toast } from '../ui.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { CLUE_OUTCOME, CLUE_STATUS, SEX, T } from '../i18n/zh-CN.js';
import { errorText, role } from '../online.js';

const ORDER = ['new', 'received', 'closed'];
const TAG = { new: 'high', received: 'medium', closed: 'low' };
const NOTE_MAX = 1000;

/** Send one action and keep its answer on the phone; a clue someone else moved on (409) is re-read. */
async function send(clue, action, body, done, out) {
  try {
    await store.keepServer('clue', await api.post(`/api/clues/${clue.id}/${action}`, body));
    toast(done);
    return true;
  } catch (e) {
    if (e.status !== 409) { out.textContent = errorText(e); return false; }
    toast(e.message);
    const now = await api.get(`/api/clues/${clue.id}`).catch(() => null);
    if (now) await store.keepServer('clue', now);
    return true;
  }
}

function receiveButton(clue, out, after) {
  return h('button', { type: 'button', class: 'btn primary', onclick: async (e) => {
    out.textContent = '';
    e.target.disabled = true;
    if (await send(clue, 'receive', {}, '已受理', out)) after();
    else e.target.disabled = false;
  } }, '受理');
}

function closeForm(clue, out, after) {
  let outcome = null;
  const note = h('textarea', { name: 'note', rows: '3', maxlength: String(NOTE_MAX), 'aria-required': 'true' });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, '办结');
  const form = h('form', { novalidate: true, 'data-testid': 'close-form' },
    radios('办理结果', `outcome-${clue.id}`, Object.entries(CLUE_OUTCOME), null, (v) => { outcome = v; }),
    field('处理情况（必填）', note, `写明处理经过，最多 ${NOTE_MAX} 字`), out, submit);
  onSave(form, async () => {
    out.textContent = !outcome ? '请选择办理结果' : !note.value.trim() ? '请写明处理情况' : '';
    if (out.textContent) { (outcome ? note : form.querySelector('input')).focus(); return false; }
    if (!await confirmDialog('办结线索', `办理结果：${CLUE_OUTCOME[outcome]}。办结后不能再修改，确定办结？`, '办结')) return false;
    if (!await send(clue, 'close', { outcome, note: note.value.trim() }, '线索已办结', out)) return false;
    if (!redrawSaved(form.closest('.page'), form, render)) after();
    return true;
  });
  return form;
}

/** Whom a clue is about, as the register had the child when it was filed (the station reads no child
 *  records, so this is all it knows of the child), and what a minor found in a venue said. */
function subjectText(s) {
  const sex = SEX[s.sex];
  return [s.name, sex, s.birth_date && `${s.birth_date} 出生`, s.village, s.address,
    s.stated_name && `自述姓名：${s.stated_name}`, s.stated_id_number && `自述身份证号：${s.stated_id_number}`]
    .filter(Boolean).join('，');
}

function card(clue, replaced) {
  const row = (label, value, id) => [h('dt', {}, label), h('dd', id ? { 'data-testid': id } : {}, value || '—')];
  const child = clue.child_id ? store.one('child', clue.child_id) : null;
  const closed = clue.status === 'closed';
  const li = h('li', { class: replaced ? 'card superseded' : 'card', 'data-testid': 'clue', 'data-clue': clue.id },
    h('div', { class: 'row' },
      h('span', { class: `tag ${TAG[clue.status] || ''}`, 'data-testid': 'clue-status' }, CLUE_STATUS[clue.status] || clue.status),
      replaced ? h('span', { class: 'tag', 'data-testid': 'clue-replaced' }, '已被更正') : null),
    h('h3', {}, `${fmtTime(clue.created_at)} 报告`),
    clue.amends ? h('p', { class: 'meta', 'data-testid': 'clue-amend' }, `更正：${clue.amend_reason || ''}`) : null,
    h('dl', { class: 'kv' },
      row('发生时间', clue.happened_at && fmtTime(clue.happened_at)), row('地点', clue.place || '未填写', 'clue-place'),
      child || clue.subject ? row('涉及儿童', child ? child.name : subjectText(clue.subject), 'clue-child') : null,
      row('情况', clue.description, 'clue-description'),
      clue.received_at ? row('受理时间', fmtTime(clue.received_at)) : null,
      closed ? [row('办结时间', fmtTime(clue.closed_at)), row('办理结果', CLUE_OUTCOME[clue.outcome] || clue.outcome, 'clue-outcome'),
        row('处理情况', clue.outcome_note, 'clue-note')] : null));
  // A replaced clue is handled through its correction, as the server insists.
  if (role() !== 'police' || closed || replaced) return li;
  const out = h('p', { class: 'error', role: 'alert' });
  // Another clue's form being typed in keeps the page from re-rendering: redraw this card then.
  const after = () => { const now = store.one('clue', clue.id); if (now && li.isConnected) li.replaceWith(card(now, replaced)); };
  li.append(clue.status === 'new' ? h('div', {}, out, receiveButton(clue, out, after)) : closeForm(clue, out, after));
  return li;
}

export function render() {
  const replaced = store.amendedIds('clue');
  // A clue this phone filed and has not sent yet is not the station's until the server has it.
  const clues = store.all('clue').filter((c) => !c._pending && c.status)
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  // A clue its reporter corrected is handled through the correction; it is kept, apart, to read.
  const groups = [...ORDER.map((status) => [status, CLUE_STATUS[status],
    clues.filter((c) => c.status === status && !replaced.has(c.id))]),
  ['replaced', '已被更正', clues.filter((c) => replaced.has(c.id))]];
  const sections = groups.map(([key, title, mine]) => {
    if (!mine.length) return null;
    const id = `clues-${key}`;
    return h('section', { 'aria-labelledby': id, 'data-testid': id },
      h('h2', { id }, `${title}（${mine.length}）`),
      h('ul', { class: 'list' }, mine.map((c) => card(c, replaced.has(c.id)))));
  });
  return page(T.clues,
    role() === 'police' ? null : h('p', { class: 'hint' }, '由派出所受理和办结'),
    h('p', {}, h('a', { class: 'item', href: '#/weekly', 'data-testid': 'weekly-link' }, h('strong', {}, '周报'),
      h('span', { class: 'meta' }, role() === 'police' ? '每周线索统计，每周一前提交上周周报（需联网）' : '派出所每周线索统计和提交情况（需联网）'))),
    clues.length ? sections : h('p', {}, '暂无线索。'));
}
