// 周报: the police station's weekly report of clues, read from the server (online only); the
// station submits it once a week, the town office reads it.
import { h, page, confirmDialog, toast, localDate, fmtTime, today, addDays } from '../ui.js';
import * as api from '../api.js';
import { CLUE_OUTCOME } from '../i18n/zh-CN.js';
import { errorText, offlineNotice, role } from '../online.js';

const TITLE = '周报';

/** The ISO week (YYYY-Www) a day falls in: the week of its Thursday. */
export function isoWeek(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7));
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

const monthDay = (day) => `${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}日`;
/** A week's code (2026-W48) as people read it: 2026年第48周. */
export const weekText = (week) => week.replace(/^(\d{4})-W0?(\d+)$/, '$1年第$2周');

export function figureLines(f) {
  return [
    ['本周新报线索', f.filed], ['其中场所发现未成年人', f.minors_found, true], ['本周受理', f.received],
    ['本周办结', f.closed], ...Object.entries(CLUE_OUTCOME).map(([k, label]) => [label, f.outcomes[k], true]),
    ['周末待受理', f.waiting], ['周末办理中', f.open],
  ];
}

function picker(r) {
  const go = (week) => { location.hash = `#/weekly/${week}`; };
  const current = today() <= r.window_end;
  return h('div', { class: 'row', 'data-testid': 'week-picker' },
    h('button', { type: 'button', class: 'btn small', onclick: () => go(isoWeek(addDays(r.window_start, -7))) }, '‹ 上一周'),
    h('button', { type: 'button', class: 'btn small', disabled: current,
      onclick: () => go(isoWeek(addDays(r.window_start, 7))) }, '下一周 ›'));
}

function submitButton(r, box) {
  return h('button', { type: 'button', class: 'btn primary wide', onclick: async (ev) => {
    if (!await confirmDialog(`提交${weekText(r.period)}周报`, '提交后该周数据将被固定，不能修改。确定提交？', '提交')) return;
    ev.target.disabled = true;
    try {
      const done = await api.post('/api/reports/weekly/submit', { week: r.period });
      toast('周报已提交');
      box.replaceWith(report(done));
    } catch (e) {
      ev.target.disabled = false;
      toast(errorText(e));
      // Someone else at the station submitted it meanwhile: show theirs.
      if (e.status === 409) box.replaceWith(report(await api.get(`/api/reports/weekly?week=${r.period}`)));
    }
  } }, '提交周报');
}

function report(r) {
  const box = h('div', { 'data-testid': 'weekly-report' },
    h('p', { class: 'meta', 'data-testid': 'weekly-window' },
      `${weekText(r.period)}：${monthDay(r.window_start)} 至 ${monthDay(r.window_end)}，应于 ${monthDay(r.due)} 前提交`),
    h('dl', { class: 'facts report-lines' }, figureLines(r.figures).map(([label, value, sub]) => [
      h('dt', sub ? { class: 'sub' } : {}, label), h('dd', {}, String(value))])));
  if (r.submitted) {
    box.append(h('p', { class: 'banner info', role: 'status', 'data-testid': 'weekly-submitted' },
      `已于 ${localDate(new Date(r.submitted_at))} 提交${r.late ? '（逾期）' : ''}，审计链头 ${r.audit_head.slice(0, 12)}…`));
    if (r.submitted_by_name) box.append(h('p', { class: 'meta' }, `提交人：${r.submitted_by_name}`));
    return box;
  }
  box.append(h('p', { class: 'meta' }, `数据截至 ${fmtTime(r.as_of)}`),
    h('p', { class: 'row', 'data-testid': 'weekly-unsubmitted' }, h('span', { class: 'tag' }, '未提交'),
      r.late ? h('span', { class: 'tag high' }, '逾期') : null));
  // A week frozen before it ends would leave its last days' clues out of every week (the server agrees).
  if (role() === 'police' && today() >= r.due) box.append(submitButton(r, box));
  else if (role() === 'police') box.append(h('p', { class: 'hint', 'data-testid': 'weekly-not-yet' }, '本周结束后（下周一起）可提交'));
  return box;
}

/** The town office's view of which stations have submitted the week, and which are late. */
function stations(r) {
  return h('section', { 'data-testid': 'weekly-stations' }, h('h2', {}, '各派出所提交情况'),
    h('ul', { class: 'list' }, r.stations.map((s) => h('li', { class: 'item' },
      h('strong', {}, s.name),
      h('span', { class: 'tag' }, s.submitted
        ? `已提交 ${localDate(new Date(s.submitted_at))}${s.submitted_by_name ? `（${s.submitted_by_name}）` : ''}` : '未提交'),
      s.late ? h('span', { class: 'tag high' }, '逾期') : null))));
}

export async function render(week) {
  if (!navigator.onLine) return page(TITLE, offlineNotice());
  let r;
  try {
    r = await api.get(`/api/reports/weekly${week ? `?week=${encodeURIComponent(week)}` : ''}`);
  } catch (e) {
    return page(TITLE, e.status === 0 ? offlineNotice() : h('p', { class: 'banner warn', role: 'alert' }, errorText(e)));
  }
  return page(TITLE,
    role() === 'police' ? null : h('p', { class: 'hint' }, '由派出所每周提交'),
    picker(r), report(r), role() === 'police' ? null : stations(r),
    h('p', {}, h('a', { class: 'btn link', href: '#/clues' }, '返回线索')));
}
