// 台账: choose a ledger, filter, search, page; cards on a phone, a table on a wide screen; export.
import { h, field, checkbox, page, toast } from '../ui.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { CATEGORY, LEDGER, RISK, T } from '../i18n/zh-CN.js';
import { errorText, failure, namesMasked, offlineNotice, role, saveFile } from '../online.js';

const PER_PAGE = 20;
const WIDE = matchMedia('(min-width: 760px)');
const FILTERS = {
  children: ['grid_id', 'category', 'risk_level', 'overdue', 'follow_up', 'q'],
  plans: ['grid_id', 'category', 'risk_level', 'overdue', 'q'],
  venues: ['overdue', 'q'], inspections: ['overdue', 'q'], staff_checks: ['overdue', 'q'],
};
const OVERDUE = { children: '只看走访逾期', plans: '只看评估逾期', venues: '只看整改逾期',
  inspections: '只看整改逾期', staff_checks: '只看查询逾期' };
const SEARCH = { children: '搜索姓名或拼音首字母', plans: '搜索儿童姓名或拼音首字母', venues: '搜索场所名称',
  inspections: '搜索场所名称', staff_checks: '搜索姓名或拼音首字母' };
const NAMED = new Set(['children', 'plans', 'staff_checks']);
const TITLE_KEY = { children: 'name', plans: 'child', venues: 'name', inspections: 'venue', staff_checks: 'person' };
const LINK = { children: (r) => (store.one('child', r.id) ? `#/child/${r.id}` : null), plans: (r) => `#/plan/${r.id}` };
const blank = () => ({ village_id: '', grid_id: '', category: '', risk_level: '', overdue: false, follow_up: false,
  q: '' });

let current = { name: 'children', page: 1, ...blank() };
let lastData = null;
let redraw = null;
WIDE.addEventListener('change', () => { if (redraw) redraw(); });

function query(extra = {}) {
  const p = new URLSearchParams();
  const allowed = [...FILTERS[current.name], ...(role() === 'town_admin' ? ['village_id'] : [])];
  for (const k of allowed) {
    const v = current[k];
    if (v === true) p.set(k, '1');
    else if (v) p.set(k, String(v).trim());
  }
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p.toString();
}

function select(label, name, options, value) {
  const el = h('select', { name }, h('option', { value: '' }, '全部'),
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return { el, wrap: field(label, el) };
}

function cell(name, col, row) {
  const value = row[col.key];
  const text = value === null || value === undefined || value === '' ? '—' : String(value);
  const href = col.key === TITLE_KEY[name] && LINK[name] ? LINK[name](row) : null;
  return href ? h('a', { href }, text) : text;
}

function table(name, data) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': data.title, tabindex: '0' },
    h('table', { class: 'ledger-table', 'data-testid': 'ledger-table' },
      h('caption', {}, `${data.title} · 共 ${data.total} 条`),
      h('thead', {}, h('tr', {}, data.columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, data.rows.map((r) => h('tr', {}, data.columns.map((c, i) => (i === 1
        ? h('th', { scope: 'row' }, cell(name, c, r)) : h('td', {}, cell(name, c, r)))))))));
}

function cards(name, data) {
  const key = TITLE_KEY[name];
  const rest = data.columns.filter((c) => c.key !== key && c.key !== 'seq');
  return h('div', {}, h('p', { class: 'meta' }, `${data.title} · 共 ${data.total} 条`),
    h('ul', { class: 'list', 'data-testid': 'ledger-cards' }, data.rows.map((r) => h('li', { class: 'card ledger-card' },
      h('p', { class: 'row' }, h('strong', {}, cell(name, { key }, r)),
        r.risk_code ? h('span', { class: `tag ${r.risk_code}` }, RISK[r.risk_code]) : null,
        r.overdue ? h('span', { class: 'tag high' }, '逾期') : null),
      h('dl', { class: 'kv' }, rest.map((c) => [h('dt', {}, c.label), h('dd', {}, cell(name, c, r))]))))));
}

function pager(data, go) {
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  return h('nav', { class: 'row pager', 'aria-label': '翻页' },
    h('button', { type: 'button', class: 'btn small', disabled: data.page <= 1, onclick: () => go(data.page - 1) }, '上一页'),
    h('span', { 'data-testid': 'page-info' }, `第 ${data.page}/${pages} 页`),
    h('button', { type: 'button', class: 'btn small', disabled: data.page >= pages, onclick: () => go(data.page + 1) }, '下一页'));
}

function save(fmt, extra = {}) {
  return saveFile(`/api/ledgers/${current.name}?${query({ format: fmt, ...extra })}`);
}

function exports() {
  const out = h('p', { class: 'error', role: 'alert' });
  const run = (fmt, extra) => async () => {
    out.textContent = '';
    try { await save(fmt, extra); } catch (e) { out.textContent = errorText(e); }
  };
  const box = h('div', { class: 'card' }, h('h2', {}, '导出'),
    h('p', { class: 'hint' }, '按当前筛选条件导出全部记录；姓名、电话等已脱敏，导出会记入审计日志。'),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn', onclick: run('xlsx') }, '导出 Excel'),
      h('button', { type: 'button', class: 'btn', onclick: run('csv') }, '导出 CSV')), out);
  if (role() === 'town_admin') {
    const reason = h('textarea', { name: 'reason', rows: '2', minlength: '4', maxlength: '500' });
    box.append(h('details', { class: 'filter-more' }, h('summary', {}, '导出未脱敏台账（须写明理由）'),
      field('导出理由（必填，至少 4 个字）', reason, '理由会记入审计日志'),
      h('button', { type: 'button', class: 'btn danger', onclick: () => {
        if (reason.value.trim().length < 4) { out.textContent = '请写明导出理由（至少 4 个字）'; return null; }
        return run('xlsx', { unmasked: '1', reason: reason.value.trim() })();
      } }, '导出未脱敏 Excel')));
  }
  return box;
}

async function filtersForm(name, reload) {
  const villages = (await store.reference('places')) || [];
  const has = (k) => FILTERS[name].includes(k);
  const kids = [];
  const bind = (el, key) => el.addEventListener('change', () => { current[key] = el.value; current.page = 1; reload(); });
  if (role() === 'town_admin') {
    const v = select('村/社区', 'village_id', villages.map((x) => [x.id, x.name]), current.village_id);
    // The grids offered depend on the village: rebuild the form around the new choice.
    v.el.addEventListener('change', async () => {
      Object.assign(current, { village_id: v.el.value, grid_id: '', page: 1 });
      const form = v.el.closest('form');
      const next = await filtersForm(name, reload);
      form.replaceWith(next);
      next.querySelector('select[name=village_id]').focus();
      reload();
    });
    kids.push(v.wrap);
  }
  if (has('grid_id')) {
    const grids = villages.filter((x) => !current.village_id || x.id === current.village_id)
      .flatMap((x) => x.grids.map((g) => [g.id, villages.length > 1 ? `${x.name}${g.name}` : g.name]));
    const g = select('网格', 'grid_id', grids, current.grid_id);
    bind(g.el, 'grid_id');
    kids.push(g.wrap);
  }
  if (has('risk_level')) {
    const r = select('风险等级', 'risk_level', Object.entries(RISK), current.risk_level);
    bind(r.el, 'risk_level');
    kids.push(r.wrap);
  }
  if (has('category')) {
    const c = select('类别', 'category', Object.entries(CATEGORY), current.category);
    bind(c.el, 'category');
    kids.push(c.wrap);
  }
  const toggle = (label, key) => {
    const box = checkbox(label, key, current[key]);
    box.querySelector('input').addEventListener('change', (e) => { current[key] = e.target.checked; current.page = 1; reload(); });
    return box;
  };
  const overdue = [toggle(OVERDUE[name], 'overdue'), has('follow_up') ? toggle('只看有待落实事项的', 'follow_up') : null];
  const search = h('input', { type: 'search', name: 'q', value: current.q, autocomplete: 'off', maxlength: '50',
    placeholder: name === 'children' || name === 'plans' ? '如 欧阳 或 oymy' : '' });
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { current.q = search.value; current.page = 1; reload(); }, 300);
  });
  const chosen = ['village_id', 'grid_id', 'risk_level', 'category', 'overdue', 'follow_up'].filter((k) => current[k]).length;
  const more = h('details', { class: 'filter-more', open: chosen > 0 || WIDE.matches },
    h('summary', {}, chosen ? `筛选（已选 ${chosen} 项）` : '筛选'), h('div', { class: 'filter-row' }, kids), overdue);
  const hint = namesMasked() && NAMED.has(name) ? T.maskedSearch : SEARCH[name];
  const form = h('form', { class: 'filters', role: 'search', 'data-leave-freely': '' }, field(hint, search), more);
  // Keeps a sync from re-rendering the screen under the user's typing (see app.js); the terms apply
  // as typed and stay for the next visit, so leaving asks nothing (data-leave-freely).
  form.addEventListener('input', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); current.q = search.value; current.page = 1; reload(); });
  return form;
}

export async function render(name, preset) {
  if (name && FILTERS[name] && name !== current.name) current = { name, page: 1, ...blank() };
  if (preset === 'overdue' || preset === 'follow_up') Object.assign(current, blank(), { [preset]: true, page: 1 });
  const picker = h('select', { name: 'ledger' }, Object.entries(LEDGER).map(([k, text]) =>
    h('option', { value: k, selected: k === current.name }, `${text}台账`)));
  picker.addEventListener('change', () => { location.hash = `#/ledgers/${picker.value}`; });
  const results = h('div', { 'aria-live': 'polite', 'aria-busy': 'false', 'data-testid': 'ledger-results' });
  const draw = () => {
    if (!lastData) return;
    results.replaceChildren(lastData.rows.length ? (WIDE.matches ? table(current.name, lastData) : cards(current.name, lastData))
      : h('p', {}, '没有符合条件的记录。'), ...(lastData.total > PER_PAGE ? [pager(lastData, (p) => { current.page = p; reload(); })] : []));
  };
  let ticket = 0;
  async function reload() {
    const mine = ++ticket;
    results.setAttribute('aria-busy', 'true');
    try {
      const data = await api.get(`/api/ledgers/${current.name}?${query({ page: current.page, per_page: PER_PAGE })}`);
      if (mine !== ticket) return;
      lastData = data;
      draw();
    } catch (e) {
      if (mine === ticket) results.replaceChildren(failure(e));
    }
    results.setAttribute('aria-busy', 'false');
  }
  redraw = () => { if (results.isConnected) draw(); };
  lastData = null;
  const body = page(T.ledgers, field('台账', picker));
  body.classList.add('ledger-page');
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  body.append(await filtersForm(current.name, reload), results, exports());
  await reload();
  return body;
}
