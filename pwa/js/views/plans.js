// 帮扶计划: what waits for the village head (approval, review, missing plans), and one plan's page.
import { h, field, page, fmtTime, confirmDialog, onSave, toast } from '../ui.js';
import * as api from '../api.js';
import { MEASURE, PLAN_STATUS, RISK, T } from '../i18n/zh-CN.js';
import { decides, errorText, failure, offlineNotice } from '../online.js';

const SECTIONS = [['plan_approval', '待审批'], ['plan_helper_missing', '待指定帮扶责任人'], ['plan_review_due', '7 天内待评估'],
  ['plan_missing', '高风险超过 7 天未落实计划']];

function taskLink(t) {
  const href = t.entity === 'plan' ? `#/plan/${t.entity_id}` : `#/child/${t.entity_id}`;
  return h('li', {}, h('a', { class: 'item', href }, h('strong', {}, t.title),
    t.overdue ? h('span', { class: 'tag high' }, '逾期') : null,
    t.due ? h('span', { class: 'meta' }, `到期 ${t.due}`) : null));
}

async function renderList() {
  const body = page(T.plans);
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  let data;
  try { data = await api.get('/api/tasks'); } catch (e) { body.append(failure(e)); return body; }
  for (const [kind, title] of SECTIONS) {
    if (!(kind in data.counts)) continue;
    const items = data.tasks.filter((t) => t.kind === kind);
    const id = `sec-${kind}`;
    body.append(h('section', { 'aria-labelledby': id }, h('h2', { id }, `${title}（${data.counts[kind]}）`),
      items.length ? h('ul', { class: 'list', 'data-testid': kind }, items.map(taskLink)) : h('p', {}, '无。')));
  }
  body.append(h('p', {}, h('a', { class: 'btn link', href: '#/ledgers/plans' }, '查看全部帮扶计划（台账）')));
  return body;
}

/** A small form whose submit calls `act(form)` (false: cancelled), shows the server's refusal, and re-renders. */
function actionForm(title, controls, button, act, danger = false) {
  const out = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card' }, h('h2', {}, title), controls, out,
    h('button', { type: 'submit', class: `btn ${danger ? 'danger' : 'primary'}` }, button));
  onSave(form, async () => {
    out.textContent = '';
    try {
      return await act(form);
    } catch (err) {
      out.textContent = errorText(err);
      return false;
    }
  });
  return form;
}

/** Name the plan's helper: before approval, or when its helper left (the child moved grid). */
function helperForm(plan, helpers, refresh) {
  const picker = h('select', { name: 'helper_id', required: true }, h('option', { value: '' }, '请选择'),
    helpers.map((u) => h('option', { value: u.id, selected: u.id === plan.helper_id }, u.name)));
  return actionForm('帮扶责任人', field('指定一名帮扶责任人', picker), '保存责任人', async () => {
    if (!picker.value) throw new Error('请选择帮扶责任人');
    await api.patch(`/api/plans/${plan.id}`, { helper_id: picker.value }, plan.version);
    toast('已保存责任人');
    await refresh();
  });
}

function draftForms(plan, helpers, refresh) {
  const url = `/api/plans/${plan.id}`;
  const kind = h('select', { name: 'kind' }, Object.entries(MEASURE).map(([k, text]) => h('option', { value: k }, text)));
  const detail = h('input', { name: 'detail', maxlength: '1000', required: true });
  const due = h('input', { name: 'due', type: 'date' });
  return [
    helperForm(plan, helpers, refresh),
    actionForm('添加帮扶措施', [field('措施类别', kind), field('具体内容', detail), field('完成期限（可不填）', due)], '添加措施', async () => {
      const measures = [...(plan.measures || []).map((m) => ({ kind: m.kind, detail: m.detail || null, due: m.due || null })),
        { kind: kind.value, detail: detail.value.trim(), due: due.value || null }];
      await api.patch(url, { measures }, plan.version);
      toast('已添加措施');
      await refresh();
    }),
    h('div', { class: 'card' }, h('p', {}, '批准后计划开始执行，并按复核周期提醒评估。'),
      h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'approve', onclick: async (e) => {
        e.target.disabled = true;
        try {
          // The version read: a draft changed since is refused (409), not approved unseen.
          await api.call('POST', `${url}/approve`, {}, { 'If-Match': String(plan.version) });
        } catch (err) {
          e.target.disabled = false;
          toast(errorText(err));
          if (err.status === 409) await refresh(); // changed meanwhile: show the plan as it now stands
          return;
        }
        await refresh();
        toast('计划已批准，开始执行');
      } }, '批准计划')),
  ];
}

function activeForms(plan, helpers, refresh) {
  const note = h('textarea', { name: 'note', rows: '3', required: true, minlength: '2', maxlength: '4000' });
  const outcome = h('textarea', { name: 'outcome', rows: '3', required: true, minlength: '2', maxlength: '4000' });
  return [
    helperForm(plan, helpers, refresh),
    actionForm('记录定期评估', field('评估情况（必填）', note), '保存评估', async () => {
      await api.post(`/api/plans/${plan.id}/review`, { note: note.value.trim() });
      toast('已记录评估');
      await refresh();
    }),
    actionForm('结案', field('帮扶结果（必填）', outcome), '结案', async () => {
      if (!await confirmDialog('结案', '结案后计划不再执行和提醒，确定结案？', '结案')) return false;
      await api.post(`/api/plans/${plan.id}/close`, { outcome: outcome.value.trim() });
      toast('计划已结案');
      await refresh();
    }, true),
  ];
}

function facts(plan, child, helperName, labels) {
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value || '—')];
  return h('dl', { class: 'facts' },
    row('儿童', h('a', { href: `#/child/${child.id}` }, child.name)), row('风险等级', RISK[child.risk_level]),
    row('状态', h('span', { 'data-testid': 'plan-status' }, PLAN_STATUS[plan.status] || plan.status)),
    row('帮扶责任人', helperName), row('复核周期', `每 ${plan.review_every_days} 天`),
    row('风险因素', (plan.risk_factors || []).map((k) => labels[k] || k).join('；')),
    row('批准时间', plan.approved_at && fmtTime(plan.approved_at)), row('下次评估', plan.next_review_due),
    plan.status === 'closed' ? [row('结案时间', fmtTime(plan.closed_at)), row('帮扶结果', plan.outcome)] : null);
}

async function fill(holder, title, id) {
  const refresh = () => fill(holder, title, id);
  let plan; let child; let helpers; let progress; let reasons;
  try {
    plan = await api.get(`/api/plans/${id}`);
    [child, helpers, progress, reasons] = await Promise.all([api.get(`/api/children/${plan.child_id}/risk`),
      api.get(`/api/helpers?village_id=${encodeURIComponent(plan.village_id)}&grid_id=${encodeURIComponent(plan.grid_id)}`).then((r) => r.rows).catch(() => []),
      api.get(`/api/plan_progress?plan_id=${encodeURIComponent(id)}&per_page=100`).then((r) => r.rows),
      api.get('/api/risk-reasons').then((r) => r.reasons).catch(() => [])]);
  } catch (e) { holder.replaceChildren(failure(e)); return; }
  const helper = helpers.find((u) => u.id === plan.helper_id);
  title.textContent = `帮扶计划：${child.name}`;
  const measures = plan.measures || [];
  holder.replaceChildren(facts(plan, child, plan.helper_id ? (helper ? helper.name : '（其他村/社区人员）') : '未指定',
    Object.fromEntries(reasons.map((r) => [r.key, r.label]))),
    h('h2', {}, `帮扶措施（${measures.length}）`),
    measures.length ? h('ul', { class: 'list', 'data-testid': 'measures' }, measures.map((m) => h('li', { class: 'card' },
      h('strong', {}, MEASURE[m.kind] || m.kind), h('p', {}, m.detail || ''), m.due ? h('p', { class: 'meta' }, `${m.due} 前完成`) : null)))
      : h('p', {}, '尚未列出措施，批准前至少需要一项。'),
    ...(decides() && plan.status === 'draft' ? draftForms(plan, helpers, refresh) : []),
    ...(decides() && plan.status === 'active' ? activeForms(plan, helpers, refresh) : []),
    h('h2', {}, `进展与评估（${progress.length}）`),
    progress.length ? h('ul', { class: 'list', 'data-testid': 'progress' }, progress.map((p) => h('li', { class: 'card' },
      h('strong', {}, fmtTime(p.at)), p.kind === 'review' ? h('span', { class: 'tag' }, '评估') : null,
      h('p', {}, p.note || '')))) : h('p', {}, '暂无记录。'));
}

export async function render(id) {
  if (!id) return renderList();
  const body = page(T.plans);
  const title = body.querySelector('h1');
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  const holder = h('div', {});
  body.append(holder);
  await fill(holder, title, id);
  return body;
}
