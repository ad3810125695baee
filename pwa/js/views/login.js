// First login (online), offline unlock with the same password, and the previous password once
// after a change on another device.
import { h, field, page } from '../ui.js';
import * as session from '../session.js';
import * as state from '../state.js';
import * as store from '../store.js';
import { T } from '../i18n/zh-CN.js';

function form(fields, button, onsubmit) {
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, button);
  const el = h('form', { class: 'card', novalidate: true }, fields, error, submit);
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try { await onsubmit(error); } catch (err) { error.textContent = err.message; } finally { submit.disabled = false; }
  });
  return el;
}

/** The password typed was changed on another device: the server took it, the data on this phone
 *  opens only with the one before. Asked once, then the new one unlocks; a wrong one counts nothing.
 *  Without it the data stays here, sealed: nothing offered on this screen removes it. */
function previousForm(onDone, back) {
  const pass = h('input', { name: 'previous-password', type: 'password', autocomplete: 'off', required: true });
  const later = h('button', { type: 'button', class: 'btn link' }, '想不起旧密码');
  later.addEventListener('click', () => { session.forgetNewPassword(); back(); });
  return h('div', {},
    h('p', { class: 'banner warn', role: 'alert', 'data-testid': 'password-changed' },
      '密码已在其他设备修改。请输入修改前的旧密码，以打开本机尚未同步的记录；之后用新密码解锁。'),
    form([field('修改前的旧密码', pass)], T.unlock, async (error) => {
      const result = await session.unlockPrevious(pass.value);
      pass.value = '';
      if (result.ok) { await onDone(); return; }
      error.textContent = '旧密码不正确，请再试（不计入错误次数）。';
    }),
    h('p', {}, '想不起旧密码：本机的记录仍加密保存在本机，不会被清除；想起后再用新密码解锁，按提示输入旧密码即可。'),
    later);
}

/** Swap `shown` for the previous-password form, and back again should the worker not have it. */
function askPrevious(shown, onDone) {
  const asking = previousForm(onDone, () => asking.replaceWith(shown));
  shown.replaceWith(asking);
}

export function renderLogin(onDone, message) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const login = form([field(T.username, user), field(T.password, pass)], T.login, async (error) => {
    if (!navigator.onLine) { error.textContent = '首次登录需要联网'; return; }
    const result = await session.login(user.value.trim(), pass.value);
    pass.value = '';
    if (result.changed) askPrevious(login, onDone);
    else await onDone();
  });
  return page(T.app,
    message ? h('p', { class: 'banner warn', role: 'alert' }, message) : null,
    h('p', {}, '首次登录需要联网；之后没有信号也可以用同一密码解锁。'),
    login);
}

export function renderUnlock(auth, onDone, wiped, message = null) {
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const switchUser = h('button', { type: 'button', class: 'btn link' }, '切换账号（清除本机数据）');
  switchUser.addEventListener('click', async () => {
    const { confirmDialog } = await import('../ui.js');
    // The outbox's counts are readable without the key: say what the wipe destroys.
    await store.refreshCounts().catch(() => {});
    const n = state.get().unsynced;
    const lost = n ? `其中 ${n} 条未同步的记录将永久丢失，无法恢复。` : '';
    if (await confirmDialog('切换账号', `将清除本机全部数据，包括未同步的记录。${lost}确定吗？`, '清除并切换')) await wiped('switch');
  });
  const unlock = form([field(T.password, pass)], T.unlock, async (error) => {
    const result = await session.unlock(pass.value);
    pass.value = '';
    if (result.ok) await onDone();
    else if (result.changed) askPrevious(unlock, onDone);
    else error.textContent = session.wrongPassword(result.left, result.unchecked);
  });
  return page(`${T.unlock} · ${T.app}`,
    message ? h('p', { class: 'banner warn', role: 'status', 'data-testid': 'idle-locked' }, message) : null,
    h('p', {}, `账号 ${auth.username}：请输入密码解锁（无需联网）。`),
    unlock,
    switchUser);
}
