// My children: search by name or pinyin initials.
import { h, field, page } from '../ui.js';
import * as store from '../store.js';
import { CATEGORY, RISK, T } from '../i18n/zh-CN.js';
import { namesMasked } from '../online.js';

let query = '';

function list(q) {
  const kids = store.searchChildren(q);
  if (!kids.length) return h('p', {}, q ? '没有找到匹配的儿童。' : '暂无儿童。');
  return h('ul', { class: 'list' }, kids.map((c) => h('li', {}, h('a', { class: 'item', href: `#/child/${c.id}` },
    h('strong', {}, c.name), h('span', { class: `tag ${c.risk_level || ''}` }, RISK[c.risk_level] || '未评估'),
    h('span', { class: 'meta' }, (c.categories || []).map((k) => CATEGORY[k] || k).join('、') || '—',
      c._pending ? ' · 待同步' : '')))));
}

export function render() {
  const masked = namesMasked();
  const search = h('input', { type: 'search', name: 'q', value: query, autocomplete: 'off',
    placeholder: masked ? '如 欧**月' : '如 欧阳 或 oymy' });
  const results = h('div', { 'aria-live': 'polite' }, list(query));
  search.addEventListener('input', () => { query = search.value; results.replaceChildren(list(query)); });
  return page(T.children, field(masked ? T.maskedSearch : '搜索姓名或拼音首字母', search), results);
}
