// Sync status: online, unsynced, last sync, storage; the 'needs attention' list; logout.
import { h, field, page, fmtTime, toast, confirmDialog, holdTyping } from '../ui.js';
import * as state from '../state.js';
import * as store from '../store.js';
import * as db from '../db.js';
import * as session from '../session.js';
import * as sync from '../sync.js';
import * as discard from '../discard.js';
import { correctable } from './register.js';
import { errorText } from '../online.js';
import { ENTITY, FIELD, T, fieldName } from '../i18n/zh-CN.js';

/** The server's reasons for refusing `op`, each after the name of its field; '_op' and '_schema' (the
 *  whole op) and a field without a name here by the message alone. */
function errorsText(op) {
  if (!op.errors) return '';
  const guardians = ((op.data || {}).guardians || []).length;
  const flat = [];
  const said = (path, text) => {
    const name = path.startsWith('_') ? null : fieldName(path, guardians);
    flat.push(name ? `${name}：${text}` : text);
  };
  const walk = (v, path) => {
    if (Array.isArray(v)) said(path, v.join('，'));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    else said(path, String(v));
  };
  walk(op.errors, '');
  return flat.join('；');
}

function short(v) {
  const t = v === null || v === undefined || v === '' ? '（空）' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}
const changesText = (op) => Object.entries(op.data || {}).map(([k, v]) => `${FIELD[k] || k}：${short(v)}`).join('；');

/** What sending a refused edit again would overwrite: the fields it sets that the phone's copy now
 *  holds otherwise (a later edit of them, applied since, or the server's), in words; '' if none. The
 *  server takes this phone's own later edit as seen, so it would not call it a conflict. */
function overwrittenText(op) {
  const held = op.action === 'update' && store.one(op.entity, op.id);
  if (!held) return '';
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return Object.entries(op.data || {}).filter(([k, v]) => k in held && !same(held[k], v))
    .map(([k]) => `${FIELD[k] || k}：${short(held[k])}`).join('；');
}

/** Which record an op is about, in words: from the phone's copy, or from the op itself when the
 *  record has left the phone (moved out of scope). */
function subject(op) {
  const d = { ...(op.data || {}), ...(store.one(op.entity, op.id) || {}) };
  const plan = store.one('plan', d.plan_id);
  const child = store.one('child', d.child_id || (plan && plan.child_id));
  const venue = store.one('venue', d.venue_id || (d.employer_kind === 'venue' ? d.employer_id : null));
  const when = d.visited_at || d.inspected_at || d.at || d.happened_at;
  const words = [d.name || d.person_name || (child && child.name) || (venue && venue.name) || d.address || d.lead_unit,
    d.person_name && venue ? venue.name : null, when && fmtTime(when)].filter(Boolean).join('，');
  return `${ENTITY[op.entity] || op.entity}${words ? `「${words}」` : ''}`;
}

const ACTION_OF = { update: '的修改', delete: '的删除' };

/** What giving up a rejected op throws away, said before it is done. */
function lossText(op, photos) {
  if (op.action === 'create') {
    return `这条${subject(op)}只保存在本机，服务器没有接收。放弃后它${photos ? `和 ${photos} 张照片` : ''}将从本机删除，无法恢复。`;
  }
  const after = store.one(op.entity, op.id) ? '本机恢复为服务器上的记录。' : '这条记录已不在本机。';
  if (op.action === 'delete') return `对${subject(op)}的删除将被撤销；${after}`;
  return `您对${subject(op)}的修改（${changesText(op)}）将被丢弃，无法恢复；${after}`;
}

const WAITING_NOUN = { visit: '条走访记录', clue: '条强制报告', child: '名儿童的登记', inspection: '条复查记录' };

/** What waits on a refused create given up (discard.waitingOn) and what becomes of it, in words; '' if nothing. */
function waitingLossText(op, waiting) {
  const parts = Object.entries(waiting).map(([e, n]) => `${n} ${WAITING_NOUN[e] || `条${ENTITY[e] || e}记录`}`);
  if (!parts.length) return '';
  const unlink = waiting.clue ? '（强制报告可选择“不关联儿童，立即报送”）' : '';
  return `另有 ${parts.join('、')}在等待这条${op.entity === 'inspection' ? '检查' : '登记'}：它们不会随之删除，`
    + `但放弃后再也无法提交，将留在本页需逐条处理${unlink}。`;
}

async function giveUp(op, button) {
  const ops = await db.recordOps(op.entity, op.id);
  if (discard.waitsOnEarlier(op, ops)) {
    toast('这条记录还有更早的一条未同步（被退回或冲突），请先处理那一条');
    return;
  }
  const [agreed, waiting] = await Promise.all([discard.loss(op, ops), discard.waitingOn(op)]);
  const [photos, later] = [agreed.photoIds.length, agreed.laterIds.length];
  const also = later ? `放弃这条新建记录，也会放弃之后对它的 ${later} 条修改。确定放弃吗？` : '';
  const message = `${lossText(op, photos)}${waitingLossText(op, waiting)}${also}`;
  if (!await confirmDialog('放弃此修改', message, '放弃并删除')) return;
  button.disabled = true;
  let held;
  try {
    held = await discard.discard(op, agreed);
  } catch (e) {
    button.disabled = false;
    toast(e.status === 0 ? '放弃修改需要联网，以便从服务器取回这条记录的原样。请联网后再试。' : `未能放弃：${e.message}`);
    return;
  }
  if (held === 'changed') {
    button.disabled = false;
    toast('这条记录刚有新的修改，未放弃。请重新确认');
    return;
  }
  toast(held ? '已放弃此修改，本机已恢复为服务器上的记录'
    : `已放弃，这条记录${later ? '及之后对它的修改' : ''}已不在本机`);
}

/** For an op refused only because the record it waits for (db.waitsFor) is a registration of this
 *  phone's not on the server yet, refused or waiting, what will become of it; else null. */
function waitingText(op) {
  const on = db.waitsFor(op);
  const record = on && store.one(on.entity, on.id);
  if (!record || record._version != null) return null;
  if (on.entity === 'inspection') {
    const listed = store.refused(on.entity, on.id) ? '（也在此列表中，请先处理那一条）' : '';
    return `它复查的检查记录还没有被服务器接收${listed}；那条检查同步成功后，这条会自动重新提交。`;
  }
  const whose = on.entity === op.entity && on.id === op.id ? `这个${ENTITY[on.entity]}的` : `它所属的${ENTITY[on.entity]}`;
  const listed = store.refused(on.entity, on.id) ? '（也在此列表中，请先修改那条登记）' : '';
  return `${whose}登记还没有被服务器接收${listed}；那条登记同步成功后，这条会自动重新提交。`;
}

/** Whether `op` is a report refused only for the child it names (db.waitsFor) when the phone holds
 *  no copy of that child the server has taken: a registration refused or given up, or a child gone
 *  from the phone. A mandatory report need not wait for it; one on a child the server holds and
 *  the phone still shows is not sent unlinked from here. */
function namesUnknownChild(op) {
  const on = op.entity === 'clue' && op.action === 'create' ? db.waitsFor(op) : null;
  if (!on || on.entity !== 'child') return false;
  const record = store.one(on.entity, on.id);
  return !record || record._version == null;
}

/** A button that sends the refused report `op` again at once without the child it names. */
function unlinkButton(op) {
  const button = h('button', { type: 'button', class: 'btn small' }, '不关联儿童，立即报送');
  button.addEventListener('click', async () => {
    if (!await db.correctOp(op.op_id, { ...op.data, child_id: null })) {
      toast('这条报告刚被重新提交或放弃（可能在另一个页面）');
      return;
    }
    await store.load();
    toast('报告已放回待同步队列，将不关联儿童报送');
    sync.sync();
  });
  return button;
}

function rejectedItem(op) {
  const fix = correctable(op) ? h('a', { class: 'btn small', href: `#/register/${op.op_id}` }, '修改后重新提交')
    : namesUnknownChild(op) ? unlinkButton(op) : null;
  const waiting = waitingText(op);
  const overwritten = overwrittenText(op);
  const retry = h('button', { type: 'button', class: 'btn small' }, '重新提交');
  retry.addEventListener('click', async () => { await db.retryOp(op.op_id); await store.refreshCounts(); toast('已放回待同步队列'); sync.sync(); });
  const drop = h('button', { type: 'button', class: 'btn small danger' }, '放弃此修改');
  drop.addEventListener('click', () => giveUp(op, drop));
  const gone = op.action !== 'create' && !store.one(op.entity, op.id);
  return h('li', { class: 'item', 'data-testid': 'rejected-op' },
    h('strong', {}, `被退回：${subject(op)}${ACTION_OF[op.action] || ''}`),
    op.action === 'update' ? h('span', { class: 'meta' }, `修改内容：${changesText(op)}`) : null,
    overwritten ? h('span', { class: 'meta', 'data-testid': 'overwrites' },
      `本机现为：${overwritten}。重新提交会改回上面的修改内容。`) : null,
    gone ? h('span', { class: 'meta' }, '这条记录已不在本机（可能已移出您的管辖范围）。') : null,
    h('span', { class: 'meta' }, errorsText(op)),
    waiting ? h('span', { class: 'meta', 'data-testid': 'waits-on' }, waiting) : null,
    h('span', { class: 'row' }, fix, retry, drop));
}

async function storageInfo() {
  if (!navigator.storage || !navigator.storage.estimate) return '本机不支持查询存储空间';
  const [est, persisted] = await Promise.all([navigator.storage.estimate(),
    navigator.storage.persisted ? navigator.storage.persisted() : false]);
  const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
  return `已用 ${mb(est.usage || 0)} / 可用 ${mb(est.quota || 0)}；${persisted ? '已申请持久保存' : '未获持久保存（空间不足时浏览器可能清理）'}`;
}

function reloginForm() {
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const error = h('p', { class: 'error', role: 'alert' });
  // A password typed, or filled in by the browser, is nothing to lose: leaving asks nothing (app.js).
  const form = h('form', { class: 'card', 'data-leave-freely': '' }, h('h2', {}, '重新连接服务器'),
    h('p', {}, state.get().passwordChanged ? T.passwordChanged : T.relogin), field(T.password, pass), error,
    h('button', { type: 'submit', class: 'btn primary' }, T.login));
  // A sync round that ends while the password is typed (going online starts one) must not redraw it away.
  holdTyping(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await session.relogin(pass.value);
      pass.value = '';
      form.removeAttribute('data-dirty');
      await sync.sync();
    } catch (err) { error.textContent = err.message; }
  });
  return form;
}

/** 修改密码: the password now and a new one, typed twice. Asked for first while the town admin's
 *  password stands (must_change_password). */
function passwordForm() {
  const now = h('input', { type: 'password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', autocomplete: 'new-password' });
  const again = h('input', { type: 'password', autocomplete: 'new-password' });
  const error = h('p', { class: 'error', role: 'alert' });
  const user = state.get().user;
  const form = h('form', { class: 'card', 'data-leave-freely': '', 'data-testid': 'password-form' },
    h('h2', {}, '修改密码'),
    user && user.must_change_password
      ? h('p', { class: 'banner warn' }, T.mustChangePassword) : null,
    field('现在的密码', now), field('新密码', next, T.passwordRule), field('再次输入新密码', again),
    error, h('button', { type: 'submit', class: 'btn primary' }, '修改密码'));
  holdTyping(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!navigator.onLine) { error.textContent = '修改密码需要联网，请到有信号的地方再试。'; return; }
    if (next.value !== again.value) { error.textContent = '两次输入的新密码不一致'; return; }
    try {
      await session.changePassword(now.value, next.value);
      for (const input of [now, next, again]) input.value = '';
      form.removeAttribute('data-dirty');
      toast('密码已修改：本机之后用新密码解锁，其他设备需用新密码重新登录');
      await sync.sync();
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return form;
}

// Every 413 says the same, the server's own or a proxy's in front of it (no JSON: http_413).
const PHOTO_TOO_LARGE = '照片超过服务器允许的大小';
const PHOTO_ERRORS = { photo_too_large: PHOTO_TOO_LARGE, payload_too_large: PHOTO_TOO_LARGE, http_413: PHOTO_TOO_LARGE,
  not_an_image: '不是可识别的图片', not_found: '对应的检查记录不存在', id_exists: '照片编号冲突' };

/** A photo the server refused, or one whose inspection the phone no longer holds (it waits for it
 *  in vain): retried, or given up by the inspector, never dropped unseen. */
function photoItem(p) {
  const inspection = store.one('inspection', p.inspection_id);
  const venue = inspection && store.one('venue', inspection.venue_id);
  const retry = h('button', { type: 'button', class: 'btn small' }, '重新上传');
  retry.addEventListener('click', async () => { await db.markPhoto(p.id, 'pending'); await store.refreshCounts(); toast('已放回待同步队列'); sync.sync(); });
  const drop = h('button', { type: 'button', class: 'btn small danger' }, '放弃这张照片');
  drop.addEventListener('click', async () => {
    if (!await confirmDialog('放弃这张照片', '照片将从本机删除，无法找回。确定放弃吗？', '放弃并删除')) return;
    await db.deletePhoto(p.id);
    toast('已放弃这张照片');
    await store.load();
  });
  const why = inspection ? `${PHOTO_ERRORS[p.error_code] || '服务器拒收'}；照片仍保存在本机。`
    : '对应的检查记录已不在本机（可能已移出您的管辖范围），照片无法上传；照片仍保存在本机。';
  return h('li', { class: 'item', 'data-testid': 'photo-item' },
    h('strong', {}, `照片未能上传：${venue ? venue.name : '检查记录'}`),
    h('span', { class: 'meta' }, why), h('span', { class: 'row' }, inspection ? retry : null, drop));
}

export async function render() {
  const s = state.get();
  const [rejected, conflicts, refusedPhotos, waiting] = await Promise.all([db.outboxByState('rejected'),
    db.outboxByState('conflict'), db.photosByState('rejected'), db.photosByState('pending')]);
  const photos = [...refusedPhotos, ...waiting.filter((p) => !store.one('inspection', p.inspection_id))];
  const button = h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'sync-now' }, T.syncNow);
  button.addEventListener('click', async () => { button.disabled = true; await sync.sync(); button.disabled = false; });
  const logout = h('button', { type: 'button', class: 'btn danger' }, T.logout);
  logout.addEventListener('click', async () => {
    await store.refreshCounts();  // entries saved in another tab count too
    const n = state.get().unsynced;
    const msg = n ? `还有 ${n} 条记录未同步！退出后它们将被永久删除。建议先联网同步。` : '退出后本机数据将被清除，下次需联网登录。';
    if (!await confirmDialog('退出登录', msg, n ? '仍然退出并删除' : '退出')) return;
    await session.wipe('logout');
  });
  const quota = h('p', { 'data-testid': 'quota' }, '正在查询存储空间…');
  storageInfo().then((t) => { quota.textContent = t; });
  return page('同步状态',
    h('dl', { class: 'facts' },
      h('dt', {}, '网络'), h('dd', {}, s.online ? T.online : T.offline),
      h('dt', {}, '待同步'), h('dd', { 'data-testid': 'sync-unsynced' }, String(s.unsynced)),
      h('dt', {}, T.lastSync), h('dd', {}, s.lastSync ? fmtTime(s.lastSync) : T.never),
      h('dt', {}, '账号'), h('dd', {}, s.user ? `${s.user.display_name || s.user.username}` : '—')),
    s.syncError ? h('p', { class: 'banner muted' }, s.syncError) : null,
    button,
    s.needsLogin ? reloginForm() : null,
    h('h2', {}, `需要处理（${rejected.length + conflicts.length + photos.length}）`),
    rejected.length + conflicts.length + photos.length ? h('ul', { class: 'list', 'data-testid': 'attention' },
      photos.map(photoItem),
      conflicts.map((op) => h('li', {}, h('a', { class: 'item', href: `#/conflict/${op.op_id}` },
        h('strong', {}, `冲突：${ENTITY[op.entity] || op.entity}`), h('span', { class: 'meta' }, '服务器上的记录已被他人修改，点此对比并选择')))),
      rejected.map(rejectedItem)) : h('p', {}, '没有需要处理的记录。'),
    h('h2', {}, '存储'), quota,
    h('h2', {}, '账号'), s.online && !s.needsLogin ? passwordForm() : null, logout);
}
