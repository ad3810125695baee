// 村务: the village head's entries (ledgers, review queues, plans) with what waits in each, and the 月报.
import { h, page, confirmDialog, toast, localDate } from '../ui.js';
import * as api from '../api.js';
import { T } from '../i18n/zh-CN.js';
import { decides, errorText, failure, offlineNotice, role, saveFile } from '../online.js';

/** A report period (2026-11) as people read it: 2026年11月. */
export function periodText(period) {
  const [year, month] = String(period).split('-');
  return month ? `${year}年${Number(month)}月` : String(period);
}

function entry(href, title, note, count) {
  return h('li', {}, h('a', { class: 'item', href },
    h('strong', {}, title), count ? h('span', { class: 'tag high' }, `${count}`) : null,
    h('span', { class: 'meta' }, note)));
}

const LINES = [
  ['在册重点儿童', (f) => f.children.active], ['本期新登记', (f) => f.children.registered],
  ['本期走访', (f) => `${f.visits.total} 次 / ${f.visits.children_visited} 人`],
  ['期末走访逾期', (f) => f.visits.overdue_children], ['执行中帮扶计划', (f) => f.plans.active],
  ['高风险未落实帮扶', (f) => f.plans.missing], ['本期检查场所', (f) => f.venues.inspected],
  ['期末未整改问题', (f) => `${f.venues.open_violations}（逾期 ${f.venues.overdue_rectifications}）`],
  ['本期从业查询', (f) => f.staff_checks.total], ['本期联合执法（全镇）', (f) => f.operations.total],
];

function exportButton(period, villageId, label) {
  const query = new URLSearchParams({ period, format: 'xlsx', ...(villageId ? { village_id: villageId } : {}) });
  return h('button', { type: 'button', class: 'btn', 'data-testid': 'report-export', onclick: async (ev) => {
    ev.target.disabled = true;
    try { await saveFile(`/api/reports/monthly?${query}`); } catch (e) { toast(errorText(e)); }
    ev.target.disabled = false;
  } }, label);
}

/** The village head's report of a period: its figures, and 提交月报 until it is submitted. */
async function headReport(period) {
  const r = await api.get(`/api/reports/monthly${period ? `?period=${encodeURIComponent(period)}` : ''}`);
  const late = !r.submitted && localDate(new Date()) > r.due;
  const box = h('div', { class: 'stack', 'data-testid': 'monthly-report' },
    h('p', { class: 'meta' }, `${periodText(r.period)}月报：${r.window_start} 至 ${r.window_end}，应于 ${r.due} 前提交`,
      late ? [' ', h('span', { class: 'tag high' }, '已逾期')] : null),
    h('dl', { class: 'facts report-lines' }, LINES.map(([label, value]) => [h('dt', {}, label), h('dd', {}, String(value(r.figures)))])));
  if (r.submitted) {
    box.append(h('p', { class: 'banner info', role: 'status', 'data-testid': 'report-submitted' },
      `已于 ${localDate(new Date(r.submitted_at))} 提交${r.late ? '（逾期）' : ''}，审计链头 ${r.audit_head.slice(0, 12)}…`));
  } else if (decides()) {
    box.append(h('button', { type: 'button', class: 'btn primary wide', onclick: async (ev) => {
      if (!await confirmDialog('提交月报', `提交后${periodText(r.period)}月报的数据将被固定，不能修改。确定提交？`, '提交')) return;
      ev.target.disabled = true;
      try {
        await api.post('/api/reports/monthly/submit', { period: r.period, village_id: r.village_id });
        toast('月报已提交');
        box.replaceWith(await headReport(r.period));
      } catch (e) {
        ev.target.disabled = false;
        toast(errorText(e));
      }
    } }, '提交月报'));
  }
  box.append(exportButton(r.period, r.village_id, '导出 Excel'));
  return box;
}

/** The town admin's view: which villages have submitted the period's report and who is late. */
async function townStatus(period) {
  const s = await api.get(`/api/reports/monthly/status${period ? `?period=${encodeURIComponent(period)}` : ''}`);
  return h('div', { class: 'stack', 'data-testid': 'report-status' },
    h('p', { class: 'meta' }, `${periodText(s.period)}月报，应于 ${s.due} 前提交`),
    h('ul', { class: 'list' }, s.villages.map((v) => h('li', { class: 'item' },
      h('strong', {}, v.name),
      h('span', { class: `tag${v.late ? ' high' : ''}` }, v.submitted ? `已提交 ${localDate(new Date(v.submitted_at))}` : '未提交'),
      v.late ? h('span', { class: 'tag high' }, '逾期') : null))),
    exportButton(s.period, null, '导出全镇月报（Excel）'));
}

async function reportSection(tasks) {
  const owed = tasks.filter((t) => t.kind === 'report_due').map((t) => t.entity_id);
  try {
    const body = decides() ? await headReport(owed[0]) : await townStatus(owed[0]);
    return h('section', {}, h('h2', {}, '月报'), body);
  } catch (e) {
    return h('section', {}, h('h2', {}, '月报'), failure(e));
  }
}

export async function render() {
  let counts = {};
  let tasks = [];
  let problem = null;
  let doubles = null;  // the groups of children registered twice, as the server counts them
  if (!navigator.onLine) problem = offlineNotice();
  else {
    const found = api.get('/api/children/duplicates').then((d) => d.groups.length, () => null);
    try { ({ counts = {}, tasks = [] } = await api.get('/api/tasks')); } catch (e) { problem = failure(e); }
    doubles = await found;
  }
  const n = (k) => counts[k] || 0;
  return page(T.head, problem,
    h('ul', { class: 'list' },
      entry('#/ledgers', T.ledgers, '儿童、帮扶、场所、检查、从业查询台账；筛选、搜索、导出'),
      entry('#/review', T.review, n('review_pending') ? `${n('review_pending')} 条走访等待审核` : '有核验标记的走访和它们的更正', n('review_pending')),
      entry('#/locations', T.locations, n('location_pending') ? `${n('location_pending')} 户住址位置待确认` : '走访定位提出的住址位置', n('location_pending')),
      // Without the server's counts (offline, or refused) there is nothing to count: no zeros it did not say.
      entry('#/plans', T.plans, problem ? '审批计划、指定帮扶责任人、定期评估；高风险儿童的计划落实'
        : `待审批 ${n('plan_approval')} · 待定责任人 ${n('plan_helper_missing')} · 待评估 ${n('plan_review_due')} · 高风险未落实 ${n('plan_missing')}`,
      n('plan_approval') + n('plan_helper_missing') + n('plan_missing')),
      entry('#/duplicates', doubles === null ? T.duplicates : `${T.duplicates}（${doubles}）`,
        '同一名儿童登记了两次：选择保留的一条，合并走访和帮扶计划'),
      role() === 'town_admin' ? entry('#/weekly', '派出所周报', '线索周报的统计和提交情况') : null,
      role() === 'town_admin' ? entry('#/devices', T.devices, '各账号登录过的手机和电脑：最近上传、下载；停用丢失的设备') : null),
    n('overdue_visit') ? h('p', {}, `本村有 ${n('overdue_visit')} 名儿童走访逾期，`, h('a', { href: '#/ledgers/children/overdue' }, '查看名单')) : null,
    problem ? null : await reportSection(tasks));
}
