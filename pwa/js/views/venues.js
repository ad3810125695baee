// My venues, each with its last inspection; tap one to inspect it.
import { h, page } from '../ui.js';
import * as store from '../store.js';
import { T, VENUE_TYPE } from '../i18n/zh-CN.js';

export function render() {
  const venues = store.all('venue').sort((a, b) => (a.name || '').localeCompare(b.name || '', 'zh-CN'));
  return page(T.venues, venues.length ? h('ul', { class: 'list' }, venues.map((v) => {
    const last = store.inspectionsOf(v.id)[0];
    return h('li', {}, h('a', { class: 'item', href: `#/inspect/${v.id}` }, h('strong', {}, v.name),
      h('span', { class: 'tag' }, VENUE_TYPE[v.type] || v.type),
      h('span', { class: 'meta' }, last ? `上次检查 ${String(last.inspected_at).slice(0, 10)}${last._pending ? '（待同步）' : ''}` : '尚未检查')));
  })) : h('p', {}, '暂无场所。'));
}
