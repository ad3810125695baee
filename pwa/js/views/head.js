// 村务: the village head's entries (ledgers, review queue, plans) with what waits in each.
import { h, page } from '../ui.js';
import * as api from '../api.js';
import { T } from '../i18n/zh-CN.js';
import { failure, offlineNotice } from '../online.js';

function entry(href, title, note, count) {
  return h('li', {}, h('a', { class: 'item', href },
    h('strong', {}, title), count ? h('span', { class: 'tag high' }, `${count}`) : null,
    h('span', { class: 'meta' }, note)));
}

export async function render() {
  let counts = {};
  let problem = null;
  if (!navigator.onLine) problem = offlineNotice();
  else {
    try { counts = (await api.get('/api/tasks')).counts || {}; } catch (e) { problem = failure(e); }
  }
  const n = (k) => counts[k] || 0;
  return page(T.head, problem,
    h('ul', { class: 'list' },
      entry('#/ledgers', T.ledgers, '儿童、帮扶、场所、检查、从业查询台账；筛选、搜索、导出'),
      entry('#/review', T.review, n('review_pending') ? `${n('review_pending')} 条走访有核验标记，等待审核` : '有核验标记的走访', n('review_pending')),
      entry('#/plans', T.plans, `待审批 ${n('plan_approval')} · 待评估 ${n('plan_review_due')} · 高风险未落实 ${n('plan_missing')}`,
        n('plan_approval') + n('plan_missing'))),
    n('overdue_visit') ? h('p', {}, `本村有 ${n('overdue_visit')} 名儿童走访逾期，`, h('a', { href: '#/ledgers/children/overdue' }, '查看名单')) : null);
}
