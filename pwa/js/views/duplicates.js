// 疑似重复登记: children the server takes for one child registered twice (the same ID number, or the
// same name, birth date and village); the village head keeps one registration and merges the others
// into it.
import { h, page, fmtDate, fmtTime, confirmDialog, nextId, toast } from '../ui.js';
import * as api from '../api.js';
import { SEX, T } from '../i18n/zh-CN.js';
import { errorText, failure, offlineNotice } from '../online.js';
import { sync } from '../sync.js';

const MATCH = { id_number: '身份证号相同', name_birth_village: '姓名、出生日期相同，同一村/社区' };
const STATUS = { moved_out: '已迁出', aged_out: '已满18周岁' };

const place = (c) => [c.village_name, c.grid_name].filter(Boolean).join(' ') || '—';
const called = (c) => `${c.name || '（无姓名）'}（${place(c)}）`;

function facts(c) {
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value || '—')];
  return h('dl', { class: 'kv' },
    row('身份证号', c.id_number || '未填'), row('出生日期', c.birth_date), row('性别', SEX[c.sex]),
    row('所在网格', place(c)), row('家庭住址', c.address),
    row('走访', c.visits ? `${c.visits} 次，最近 ${fmtDate(c.last_visit_at)}` : '无'),
    row('帮扶计划', c.open_plan ? '有未结案的计划' : '无未结案的计划'),
    row('登记时间', fmtTime(c.created_at)), STATUS[c.status] ? row('状态', STATUS[c.status]) : null);
}

/** What merging `others` into `kept` does, in words, as services/duplicates.merge_children does it. */
function consequence(kept, others, nth) {
  const [merged, it] = others.length > 1 ? [`其余 ${others.length} 条登记`, '它们']
    : [`${nth(others[0])}“${called(others[0])}”`, '它'];
  return `将把${merged}并入保留的${nth(kept)}“${called(kept)}”：${it}的走访记录、帮扶计划和线索都转到保留的一条名下，` +
    `类别合并，保留的一条未填的身份证号、出生日期、学校由${it}补上；${it}标记为已合并，` +
    '不再出现在名单和网格员的手机上。合并后不能撤销。' +
    (STATUS[kept.status] ? `注意：保留的一条状态为“${STATUS[kept.status]}”，合并后这名儿童不再在走访名单上；` +
      '如儿童仍在本村/社区，请保留状态正常的一条。' : '');
}

function group(g, reload) {
  const name = nextId('keep');
  const out = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'button', class: 'btn danger' }, '合并');
  // Numbered: two registrations of one child in one grid are otherwise named alike.
  const nth = (c) => `第 ${g.children.indexOf(c) + 1} 条`;
  const form = h('form', { 'data-leave-freely': '' },
    h('fieldset', { class: 'choices' }, h('legend', {}, '保留哪一条登记？'),
      h('ul', { class: 'list' }, g.children.map((c) => {
        const id = nextId('keep');
        return h('li', { 'data-testid': 'duplicate-child', 'data-child': c.id },
          h('span', { class: 'choice' }, h('input', { type: 'radio', id, name, value: c.id }),
            h('label', { for: id }, `保留${nth(c)}：${called(c)}`)),
          facts(c));
      }))),
    out, button);
  // A choice made keeps a background sync from redrawing the list under it (app.js); nothing to lose by leaving.
  form.addEventListener('input', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('submit', (e) => e.preventDefault());
  const card = h('li', { class: 'card', 'data-testid': 'duplicate-group' },
    h('p', {}, h('span', { class: 'tag high' }, MATCH[g.match] || g.match)), form);
  button.addEventListener('click', async () => {
    out.textContent = '';
    const picked = form.querySelector(`input[name=${name}]:checked`);
    if (!picked) { out.textContent = '请先选择保留哪一条登记'; return; }
    const kept = g.children.find((c) => c.id === picked.value);
    const others = g.children.filter((c) => c !== kept);
    if (!await confirmDialog('合并重复登记', consequence(kept, others, nth), '合并')) return;
    button.disabled = true;
    let done = 0;
    try {
      for (const c of others) {
        await api.post(`/api/children/${c.id}/merge`, { into: kept.id });
        done += 1;
      }
    } catch (e) {
      // Refused as it stands (an open plan each, no longer alike): the group stays for the head to see why.
      // One merged already, or gone (merged by someone else meanwhile): the list has changed.
      if (!done && e.status !== 404) { out.textContent = errorText(e); button.disabled = false; return; }
      toast(e.code === 'merged' ? '这组登记已被他人合并，已刷新名单'
        : e.status === 404 ? `${errorText(e)}：这组登记可能已被他人合并，已刷新名单` : `已合并 ${done} 条；${errorText(e)}`);
    }
    if (done === others.length) toast(`已合并，保留 ${called(kept)}`);
    await reload();
    if (done) sync();  // the merged registrations leave this phone too
  });
  return card;
}

async function fill(holder) {
  const reload = () => fill(holder);
  let data;
  try { data = await api.get('/api/children/duplicates'); } catch (e) { holder.replaceChildren(failure(e)); return; }
  const groups = data.groups || [];
  const count = h('p', { 'data-testid': 'duplicates-count' }, groups.length ? `共 ${groups.length} 组疑似重复登记。` : '没有疑似重复登记。');
  if (!groups.length) { holder.replaceChildren(count); return; }
  holder.replaceChildren(count, h('p', { class: 'hint' },
    '同一名儿童登记了两次时，选择保留的一条，另一条的走访、帮扶计划并入保留的一条。不是同一名儿童的，不要合并。'),
  h('ul', { class: 'list' }, groups.map((g) => group(g, reload))));
}

export async function render() {
  const body = page(T.duplicates);
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  const holder = h('div', { 'aria-live': 'polite' });
  body.append(holder);
  await fill(holder);
  return body;
}
