// A child's page: details, the edit of notes, the visit history and the assistance plan.
import { h, field, page, fmtTime, onSave, redrawSaved, revealDialog, syncTag, toast } from '../ui.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { CATEGORY, MEASURE, PLAN_STATUS, RISK, SEX, T } from '../i18n/zh-CN.js';
import { errorText, isHead, namesMasked } from '../online.js';
import * as state from '../state.js';
import { headPanel } from './child-head.js';
import { newestFirst } from '../amend.js';
import { beganAt } from './visit.js';
import { followUpRules, toDoFor } from '../rules.js';

function row(label, value) {
  return [h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '—' : String(value))];
}

/** One visit of the history, with its review and correction: a corrected visit stays, muted. */
function visitItem(v, amended, me) {
  const superseded = amended.has(v.id);
  const questioned = v.review_status === 'questioned' && !superseded;
  const mine = !v.worker_id || v.worker_id === me;
  const note = questioned ? v.review_note || null : null;
  return h('li', { class: superseded ? 'item superseded' : 'item', 'data-testid': 'visit', 'data-visit': v.id },
    h('strong', {}, fmtTime(v.visited_at)), h('span', { class: 'meta' }, v.notes || '（无备注）'),
    superseded ? h('span', { class: 'tag' }, '已更正') : null,
    questioned ? h('span', { class: 'tag high' }, '存疑') : null,
    v.amends ? h('span', { class: 'tag' }, '更正') : null,
    syncTag(store.syncState('visit', v)),
    v.follow_up ? h('span', { class: 'tag high' }, '需跟进') : null,
    v.amends ? h('span', { class: 'meta' }, `更正原因：${v.amend_reason || '—'}`) : null,
    questioned && (note || mine) ? h('span', { class: 'meta', 'data-testid': 'review-note' },
      `负责人意见：${note || '（联网同步后可查看）'}`) : null,
    mine && !superseded && !v._pending
      ? h('a', { class: 'btn small amend', href: `#/visit/${v.child_id}/${v.id}`,
        'aria-label': `更正 ${fmtTime(v.visited_at)} 的走访` }, '更正') : null);
}

export function render(id) {
  const c = store.one('child', id);
  if (!c) return page('未找到', h('p', {}, '这个儿童不在本机数据中。'), h('a', { href: '#/children' }, '返回列表'));
  const hh = store.one('household', c.household_id);
  const notes = h('textarea', { name: 'notes', rows: '3', maxlength: '2000', value: c.notes || '' });
  const edit = h('form', { class: 'card' }, field('备注', notes),
    h('button', { type: 'submit', class: 'btn' }, '保存备注'));
  onSave(edit, async () => {
    const saved = await store.update('child', id, { notes: notes.value }, edit, c);
    if (saved === 'gone') {
      toast('这个儿童已不在本机（可能已移出您的管辖范围），备注未保存');
      return false;
    }
    if (saved === 'same') {
      edit.removeAttribute('data-dirty');  // typed and put back: nothing to keep from a redraw
      toast('备注已是最新');
      return false;
    }
    toast('备注已保存，待同步');
    redrawSaved(body, edit, () => render(id));
  });
  const visits = store.visitsOf(id).sort(newestFirst('visited_at'));
  const amended = store.amendedIds('visit');
  const me = (state.get().user || {}).id;
  const plans = store.plansOf(id);
  // The rules are read from storage: the row fills in a moment after the page is drawn.
  const followUps = h('dd', { 'data-testid': 'follow-ups' }, '—');
  followUpRules().then((rules) => {
    followUps.textContent = toDoFor(c, rules).join('；') || '无';
  }).catch(() => {});
  const body = page(c.name,
    h('p', { class: 'row' }, h('a', { class: 'btn primary', href: `#/visit/${id}` }, '记录走访'),
      c._pending ? h('span', { class: 'tag' }, '有未同步的修改') : null),
    h('dl', { class: 'facts' },
      row('风险', RISK[c.risk_level] || '未评估'), row('性别', SEX[c.sex]), row('出生日期', c.birth_date),
      row('学校', c.school), row('类别', (c.categories || []).map((k) => CATEGORY[k] || k).join('、')),
      row('身份证号', c.id_number), row('下次走访', c.next_visit_due || c.first_visit_due),
      h('dt', {}, '待落实'), followUps, row('地址', hh && hh.address),
      row('监护人', hh && (hh.guardians || []).map((g) => `${g.name}（${g.relation || ''}）${g.phone || ''}`).join('；'))),
    revealButton(c, hh),
    hh && hh.lat == null && hh.location_proposal
      ? h('p', { class: 'hint', 'data-testid': 'location-pending' }, '位置待村负责人确认') : null,
    isHead() ? headPanel(id) : null,
    edit,
    h('h2', {}, `走访记录（${visits.length}）`),
    visits.length ? h('ul', { class: 'list' }, visits.map((v) => visitItem(v, amended, me))) : h('p', {}, '暂无走访记录。'),
    // Online, a head's panel above lists the plans with their links; offline this is all there is.
    isHead() && navigator.onLine ? null : storedPlans(plans, () => body, () => render(id)));
  return body;
}

/** For a role that may reveal (the server's REVEAL_ROLES are the heads), when the name, ID number or
 *  a guardian's phone shows masked: ask the server for one field with a reason. The value stays in
 *  the dialog. */
function revealButton(c, hh) {
  if (!isHead()) return null;
  const masked = (value) => typeof value === 'string' && value.includes('*');
  const choices = [namesMasked() ? ['name', '姓名'] : null, masked(c.id_number) ? ['id_number', '身份证号'] : null,
    hh && (hh.guardians || []).some((g) => masked(g.phone)) ? ['guardian_phones', '监护人电话'] : null].filter(Boolean);
  if (!choices.length) return null;
  const ask = async (which, reason) => {
    if (!navigator.onLine) throw new Error(T.needsNetwork);
    try {
      return (await api.post(`/api/children/${c.id}/reveal`, { field: which, reason })).value;
    } catch (e) {
      throw new Error(errorText(e));
    }
  };
  return h('p', { class: 'row' }, h('button', { type: 'button', class: 'btn small', 'data-testid': 'reveal',
    onclick: () => revealDialog('查看完整信息', choices, ask) }, '查看完整信息'));
}

function storedPlans(plans, screen, redraw) {
  return [h('h2', {}, '帮扶计划'), plans.length ? plans.map((p) => storedPlan(p, screen, redraw)) : h('p', {}, '暂无帮扶计划。')];
}

/** A plan as the phone holds it, its progress entries, and (not closed) the entry of new progress,
 *  saved on the phone and synced as the fact it is. */
function storedPlan(p, screen, redraw) {
  const entries = store.progressOf(p.id);
  return h('div', { class: 'card', 'data-testid': 'stored-plan' },
    h('p', {}, `状态：${PLAN_STATUS[p.status] || p.status}；每 ${p.review_every_days || '—'} 天复核`),
    h('ul', {}, (p.measures || []).map((m) => h('li', {}, `${MEASURE[m.kind] || m.kind}：${m.detail || ''}${m.due ? `（${m.due} 前）` : ''}`))),
    h('h3', {}, `进展与评估（${entries.length}）`),
    entries.length ? h('ul', { class: 'list', 'data-testid': 'progress' }, entries.map((e) => h('li', { class: 'item' },
      h('strong', {}, fmtTime(e.at)), e.kind === 'review' ? h('span', { class: 'tag' }, '评估') : null,
      h('span', { class: 'meta' }, e.note || ''), syncTag(store.syncState('plan_progress', e)))))
      : h('p', {}, '暂无记录。'),
    p.status === 'closed' ? null : progressForm(p, screen, redraw));
}

function progressForm(plan, screen, redraw) {
  const note = h('textarea', { name: 'note', rows: '3', maxlength: '4000', required: true });
  const form = h('form', { class: 'stack', 'data-draft': `progress-${plan.id}` },
    field('帮扶进展（必填）', note, '如：送医复查、申请救助、心理疏导、学校沟通等，写明做了什么、结果如何'),
    h('button', { type: 'submit', class: 'btn primary' }, '保存进展'));
  const began = beganAt(form);
  onSave(form, async () => {
    if (!note.value.trim()) {
      toast('请填写帮扶进展');
      return false;
    }
    await store.create('plan_progress', { plan_id: plan.id, at: began(), note: note.value.trim() }, [], [], form);
    toast('进展已保存在本机，待同步');
    redrawSaved(screen(), form, redraw);
  });
  return form;
}
