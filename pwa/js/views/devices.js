// 设备管理 (town admin): every phone or PC that logged in, when it last logged in, sent and fetched
// records; a lost phone is stopped here, and wipes itself the next time it reaches the server. A
// password its user forgot is set anew here: the phone then opens its unsynced records with it.
import { h, page, confirmDialog, toast, fmtTime, field } from '../ui.js';
import * as api from '../api.js';
import { T } from '../i18n/zh-CN.js';
import { errorText, failure, offlineNotice, role } from '../online.js';
import { deviceId } from '../session.js';
import * as state from '../state.js';

const ROLE = { grid_worker: '网格员', village_head: '村/社区负责人', inspector: '联合执法队员', police: '派出所',
  town_admin: '镇平安办' };
const STALE_DAYS = 7;

/** A phone that has sent nothing for a week may hold visits no one else has: worth a call. */
function stale(d) {
  const last = d.last_push_at || d.last_login_at;
  return !d.revoked_at && last && Date.now() - new Date(last).getTime() > STALE_DAYS * 86400000;
}

/** The field app names a device pwa-<random UUID>: its first 8 characters tell one person's devices
 *  apart; any other id is shown whole. */
const shortId = (id) => String(id).replace(/^pwa-([0-9a-f]{8})-[0-9a-f-]{27}$/, '$1');

function facts(d) {
  const when = (v) => (v ? fmtTime(v) : '从未');
  return h('dl', { class: 'kv' },
    h('dt', {}, '设备编号'), h('dd', { title: d.id }, shortId(d.id)),
    h('dt', {}, '首次登录'), h('dd', {}, when(d.created_at)),
    h('dt', {}, '最近登录'), h('dd', {}, when(d.last_login_at)),
    h('dt', {}, '最近上传'), h('dd', {}, when(d.last_push_at)),
    h('dt', {}, '最近下载'), h('dd', {}, when(d.last_pull_at)),
    d.revoked_at ? [h('dt', {}, '停用时间'), h('dd', {}, fmtTime(d.revoked_at))] : null);
}

/** A new password for the user of `d`, who forgot hers: every login of that account ends, and a
 *  phone that keeps its data key under the device's recovery key (`recoverable`) opens what it
 *  holds unsynced with the new one once online; another asks for the password before. */
function resetForm(d, name) {
  const out = h('p', { class: 'error', role: 'alert' });
  const open = h('button', { type: 'button', class: 'btn' }, '重置该用户的密码');
  // Named for the worker's account, so a password manager does not take it for the admin's own.
  const user = h('input', { type: 'text', autocomplete: 'username', value: d.username || '', hidden: true,
    readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  const pass = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, '设置新密码');
  const form = h('form', { class: 'stack', hidden: true, novalidate: true }, user,
    field('新密码', pass, `${T.passwordRule}；请当面或电话告知本人，不要在群聊里发送。`), submit);
  open.addEventListener('click', () => { form.hidden = false; open.hidden = true; pass.focus(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    out.textContent = '';
    const ok = await confirmDialog('重置密码', `${name} 的账号将在所有设备上退出，之后只能用新密码登录。`
      + (d.recoverable ? '这台设备联网后用新密码解锁，未同步的记录仍在。'
        : '这台设备尚未保存找回密钥：解锁时仍需输入原密码，才能打开未同步的记录。') + '确定重置？', '重置');
    if (!ok) return;
    submit.disabled = true;
    try {
      await api.post(`/api/users/${encodeURIComponent(d.user_id)}/password`, { new_password: pass.value });
      pass.value = '';
      form.hidden = true;
      open.hidden = false;
      toast(`已为 ${name} 设置新密码；其账号已在所有设备上退出，请告知本人用新密码登录。`);
    } catch (err) {
      out.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return h('div', { 'data-testid': 'password-reset' }, open, form, out);
}

/** `onRevoked(d)` runs when the device is stopped here, with the device as it now is. */
function item(d, mine, onRevoked) {
  const name = d.display_name || d.username || '（未知用户）';
  const status = h('span', { class: `tag${d.revoked_at ? '' : ' low'}`, 'data-testid': 'device-status' },
    d.revoked_at ? '已停用' : '使用中');
  const li = h('li', { class: 'card', 'data-testid': 'device-item', 'data-device': d.id },
    h('h2', {}, name, ' ', h('span', { class: 'meta' }, `${d.username || ''} · ${ROLE[d.role] || d.role || ''}`)),
    h('p', { class: 'row' }, status, d.id === mine ? h('span', { class: 'tag', 'data-testid': 'device-mine' }, '本机') : null,
      stale(d) ? h('span', { class: 'tag high', 'data-testid': 'device-stale' }, `超过 ${STALE_DAYS} 天未上传`) : null),
    facts(d));
  if (!d.revoked_at) {
    const out = h('p', { class: 'error', role: 'alert' });
    const stop = h('button', { type: 'button', class: 'btn danger' }, '停用此设备');
    stop.addEventListener('click', async () => {
      const ok = await confirmDialog('停用设备', (d.id === mine ? '这是您现在正在使用的设备。' : '')
        + `停用后，${name} 的这台设备下次联网时会退出登录，并清除设备上的全部数据；尚未上传的记录将无法找回。`
        + '只在设备丢失、被盗或人员离岗时停用。确定停用？', '停用');
      if (!ok) return;
      stop.disabled = true;
      out.textContent = '';
      try {
        await api.post(`/api/devices/${encodeURIComponent(d.id)}/revoke`);
        toast('设备已停用');
        const stopped = { ...d, revoked_at: new Date().toISOString() };
        li.replaceWith(item(stopped, mine, onRevoked));
        onRevoked(stopped);
      } catch (e) {
        out.textContent = errorText(e);
        stop.disabled = false;
      }
    });
    li.append(out, stop);
    const me = state.get().user;
    if (d.user_id && (!me || d.user_id !== me.id)) li.append(resetForm(d, name));
  }
  return li;
}

export async function render() {
  const body = page(T.devices);
  if (role() !== 'town_admin') { body.append(h('p', { class: 'banner warn' }, '只有镇平安办可以管理设备。')); return body; }
  if (!navigator.onLine) { body.append(offlineNotice()); return body; }
  let data;
  try { data = await api.get('/api/devices?per_page=500'); } catch (e) { body.append(failure(e)); return body; }
  const mine = await deviceId();
  const rows = [...data.rows];
  const count = h('p', { 'data-testid': 'devices-count' });
  const recount = () => {
    const active = rows.filter((d) => !d.revoked_at);
    const quiet = active.filter(stale).length;
    count.textContent = `共 ${data.total} 台设备，使用中 ${active.length} 台`
      + (quiet ? `，其中 ${quiet} 台超过 ${STALE_DAYS} 天未上传` : '') + '。';
  };
  const revoked = (d) => { rows[rows.findIndex((x) => x.id === d.id)] = d; recount(); };
  recount();
  body.append(count, h('p', { class: 'hint' }, '停用会让设备退出并清除本机数据，用于设备丢失或人员离岗。'),
    h('ul', { class: 'list' }, rows.map((d) => item(d, mine, revoked))));
  return body;
}
