// 待确认位置: household locations the server proposed from a grid worker's visit; the village head
// takes them as the household's location or leaves them out.
import { h, page, fmtTime, toast } from '../ui.js';
import * as api from '../api.js';
import { T } from '../i18n/zh-CN.js';
import { decides, errorText, failure, offlineNotice } from '../online.js';
import { distanceText } from './today.js';

// Homes of one village lie within a few hundred metres of a neighbour: one proposed further from
// every located home is worth a second look before it becomes the home's location.
const FAR_FROM_NEIGHBOURS_M = 1000;

function nearestText(n) {
  if (!n) return '本村尚无已定位的住户';
  return `${distanceText(n.distance_m)}（${n.address || '无住址'}）`;
}

function facts(hh) {
  const p = hh.location_proposal || {};
  const accuracy = p.accuracy_m == null ? '—' : Math.round(p.accuracy_m);
  const where = p.lat == null ? '—' : `${p.lat.toFixed(6)}, ${p.lon.toFixed(6)}（精度 ±${accuracy} 米）`;
  return h('dl', { class: 'kv' },
    h('dt', {}, '网格'), h('dd', {}, hh.grid_name || '—'),
    h('dt', {}, '走访人'), h('dd', {}, hh.worker_name || '—'),
    h('dt', {}, '走访时间'), h('dd', {}, fmtTime(p.visited_at)),
    h('dt', {}, '建议位置'), h('dd', {}, where),
    h('dt', {}, '距最近的已定位住户'), h('dd', { 'data-testid': 'nearest' }, nearestText(hh.nearest),
      hh.nearest && hh.nearest.distance_m > FAR_FROM_NEIGHBOURS_M
        ? h('span', { class: 'tag high' }, '离本村其他住户较远，请核实') : null));
}

function item(hh, onDone) {
  const out = h('p', { class: 'error', role: 'alert' });
  const li = h('li', { class: 'card', 'data-testid': 'location-item', 'data-household': hh.id });
  const act = (decision) => async () => {
    out.textContent = '';
    for (const b of li.querySelectorAll('button')) b.disabled = true;
    try {
      // The proposal shown: one a correction of the visit put in its place since is not decided unseen.
      await api.post(`/api/households/${hh.id}/location-review`, { decision, visit_id: hh.location_proposal.visit_id });
      toast(decision === 'confirm' ? '已确认，住址位置已更新' : '已不采用该位置');
      onDone(li);
    } catch (e) {
      // Decided by someone else, or no longer in this village: nothing is left to decide here.
      if (e.status === 409 || e.status === 404) { toast(errorText(e)); onDone(li); return; }
      out.textContent = errorText(e);
      for (const b of li.querySelectorAll('button')) b.disabled = false;
    }
  };
  li.append(h('h2', {}, hh.address || '（无住址）'), facts(hh));
  if (decides()) {
    li.append(out, h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn primary', onclick: act('confirm') }, '确认位置'),
      h('button', { type: 'button', class: 'btn', onclick: act('reject') }, '不采用')));
  }
  return li;
}

export async function render() {
  const body = page(T.locations);
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  let data;
  try { data = await api.get('/api/review/locations?per_page=100'); } catch (e) { body.append(failure(e)); return body; }
  const count = h('p', { 'aria-live': 'polite', 'data-testid': 'locations-count' });
  const list = h('ul', { class: 'list' });
  let left = data.total;
  const show = () => { count.textContent = left ? `共 ${left} 户住址位置待确认。` : '没有待确认的位置。'; };
  const done = (li) => { li.remove(); left -= 1; show(); };
  list.append(...data.rows.map((hh) => item(hh, done)));
  show();
  body.append(count,
    h('p', { class: 'hint' }, '位置来自网格员入户走访时的定位。确认后作为该户住址位置；不采用的，下次走访会重新提出。'),
    ...(decides() ? [] : [h('p', { class: 'hint' }, '由村/社区负责人确认；您可以查看。')]), list);
  return body;
}
