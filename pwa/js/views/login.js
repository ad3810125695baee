// First login (online) and offline unlock with the same password.
import { h, field, page } from '../ui.js';
import * as session from '../session.js';
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

export function renderLogin(onDone, message) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  return page(T.app,
    message ? h('p', { class: 'banner warn', role: 'alert' }, message) : null,
    h('p', {}, '首次登录需要联网；之后没有信号也可以用同一密码解锁。'),
    form([field(T.username, user), field(T.password, pass)], T.login, async (error) => {
      if (!navigator.onLine) { error.textContent = '首次登录需要联网'; return; }
      await session.login(user.value.trim(), pass.value);
      pass.value = '';
      await onDone();
    }));
}

export function renderUnlock(auth, onDone, wiped) {
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const switchUser = h('button', { type: 'button', class: 'btn link' }, '切换账号（清除本机数据）');
  switchUser.addEventListener('click', async () => {
    const { confirmDialog } = await import('../ui.js');
    if (await confirmDialog('切换账号', '将清除本机全部数据，包括未同步的记录。确定吗？', '清除并切换')) await wiped('switch');
  });
  return page(`${T.unlock} · ${T.app}`,
    h('p', {}, `账号 ${auth.username}：请输入密码解锁（无需联网）。`),
    form([field(T.password, pass)], T.unlock, async (error) => {
      const result = await session.unlock(pass.value);
      pass.value = '';
      if (result.ok) { await onDone(); return; }
      error.textContent = session.wrongPassword(result.left);
    }),
    switchUser);
}
