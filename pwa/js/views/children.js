// My children: search by name or pinyin initials.
import { h, field, page } from '../ui.js';
import * as store from '../store.js';
import { CATEGORY, RISK, T } from '../i18n/zh-CN.js';
import { namesMasked } from '../online.js';

let query = '';
// A village's or the town's whole register is hundreds to thousands of rows: too long to scroll, and
// slow to draw on a cheap phone. Past this many, the search narrows it.
const LIST_MAX = 100;

function list(q) {
  const kids = store.searchChildren(q);
  if (!kids.length) return h('p', {}, q ? '没有找到匹配的儿童。' : '暂无儿童。');
  const more = kids.length > LIST_MAX
    ? h('p', { class: 'hint', 'data-testid': 'children-more' }, `共 ${kids.length} 名，只列出前 ${LIST_MAX} 名；请输入姓名或拼音首字母查找。`) : null;
  return h('div', {}, more, h('ul', { class: 'list' }, kids.slice(0, LIST_MAX).map((c) => h('li', {}, h('a', { class: 'item', href: `#/child/${c.id}` },
    h('strong', {}, c.name), h('span', { class: `tag ${c.risk_level || ''}` }, RISK[c.risk_level] || '未评估'),
    h('span', { class: 'meta' }, (c.categories || []).map((k) => CATEGORY[k] || k).join('、') || '—',
      c._pending ? ' · 待同步' : ''))))));
}

export function render() {
  const masked = namesMasked();
  const search = h('input', { type: 'search', name: 'q', value: query, autocomplete: 'off',
    placeholder: masked ? '如 欧**月' : '如 欧阳 或 oymy' });
  const results = h('div', { 'aria-live': 'polite' }, list(query));
  search.addEventListener('input', () => { query = search.value; results.replaceChildren(list(query)); });
  return page(T.children, field(masked ? T.maskedSearch : '搜索姓名或拼音首字母', search), results);
}
