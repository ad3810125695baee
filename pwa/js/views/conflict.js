// A conflict: mine beside the server's, field by field; take one side or merge.
import { drawnAt, h, holdTyping, moveOn, page, toast, whileSaving } from '../ui.js';
import * as db from '../db.js';
import * as store from '../store.js';
import * as sync from '../sync.js';
import { newId } from '../crypto.js';
import { FIELD, ENTITY } from '../i18n/zh-CN.js';

const shown = (v) => (v === null || v === undefined || v === '' ? '（空）' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export async function render(opId) {
  const op = (await db.outboxByState('conflict')).find((o) => o.op_id === opId);
  if (!op) return page('冲突已处理', h('p', {}, '这条冲突已经处理完毕。'), h('a', { href: '#/sync' }, '返回同步'));
  // A pull after the conflict may have brought a newer server copy: compare with that one.
  const copy = (await db.serverCopy(op)) || { version: null, data: {} };
  const gone = copy.data === null;
  const server = copy.data || {};
  const fields = Object.keys(op.data || {});
  const rows = fields.map((f) => {
    const mineId = `m-${f}`;
    const theirsId = `s-${f}`;
    return h('tr', {}, h('th', { scope: 'row' }, FIELD[f] || f),
      h('td', {}, h('input', { type: 'radio', name: `pick-${f}`, id: mineId, value: 'mine', checked: true }),
        h('label', { for: mineId, 'data-testid': `mine-${f}` }, shown(op.data[f]))),
      h('td', {}, h('input', { type: 'radio', name: `pick-${f}`, id: theirsId, value: 'server' }),
        h('label', { for: theirsId, 'data-testid': `server-${f}` }, shown(server[f]))));
  });
  const table = h('table', { class: 'compare' }, h('caption', {}, '逐项选择要保留的内容'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '字段'), h('th', { scope: 'col' }, '我的'), h('th', { scope: 'col' }, '服务器的'))),
    h('tbody', {}, rows));
  const form = h('form', { class: 'stack', onsubmit: (e) => e.preventDefault() });
  holdTyping(form);  // a pick made is not redrawn away by a sync
  drawnAt(form);
  const finish = (choice) => whileSaving(form, () => settle(choice));  // a double tap settles once
  const settle = async (choice) => {
    const merged = {};
    for (const f of fields) {
      const pick = choice === 'merge' ? table.querySelector(`input[name="pick-${f}"]:checked`).value : choice;
      if (pick === 'mine') merged[f] = op.data[f];
    }
    const { id: _id, version: _v, ...serverData } = server;
    void _id; void _v;
    const { version } = copy;
    const record = { entity: op.entity, id: op.id, version, data: gone ? null : { ...serverData, ...merged } };
    const newOp = Object.keys(merged).length ? { op_id: newId(), entity: op.entity, action: op.action, id: op.id,
      base_version: version, data: merged } : null;
    let answer;
    do answer = await db.resolveConflict(op.op_id, newOp, record); while (answer === 'queued');
    if (answer === 'stale') {
      form.removeAttribute('data-saving');  // redrawn with the newer server copy, picks made anew
      form.removeAttribute('data-dirty');
      await store.load();
      toast('服务器上又有新的修改，请重新对比后选择');
      return;
    }
    await store.load();
    toast(gone && answer !== 'back' ? '已从本机移除这条记录' : newOp ? '已按您的选择保存，待同步' : '已采用服务器的记录');
    moveOn(form, '#/sync');
    sync.sync();
  };
  const btn = (text, choice, cls) => h('button', { type: 'button', class: `btn ${cls}`, onclick: () => finish(choice) }, text);
  if (gone) {
    form.append(h('p', {}, '您离线修改的记录，在服务器上已被删除或已不在您的管辖范围内，您的修改无法再保存。'),
      h('div', { class: 'stack' }, btn('知道了，从本机移除', 'server', 'primary wide')));
  } else {
    form.append(h('p', {}, '您离线修改的记录，在服务器上已被他人改过。请对比后选择，任何一方都不会被悄悄覆盖。'),
      table,
      h('div', { class: 'stack' }, btn('按所选合并保存', 'merge', 'primary wide'), btn('全部采用我的', 'mine', 'wide'),
        btn('全部采用服务器的', 'server', 'wide')));
  }
  return page(`冲突：${ENTITY[op.entity] || op.entity}`, form);
}
