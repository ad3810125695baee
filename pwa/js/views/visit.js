// Record a home visit: the server's checklist template, GPS with its accuracy, notes, follow-up.
import { h, field, page, radios, checkbox, isoNow, toast } from '../ui.js';
import * as store from '../store.js';

export function gpsWidget() {
  const fix = { lat: null, lon: null, accuracy_m: null };
  const out = h('p', { class: 'gps', 'aria-live': 'polite', 'data-testid': 'gps' }, '正在获取定位…');
  const take = () => {
    if (!navigator.geolocation) { out.textContent = '本机不支持定位'; return; }
    out.textContent = '正在获取定位…';
    navigator.geolocation.getCurrentPosition((p) => {
      Object.assign(fix, { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) });
      out.textContent = `已定位：${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)}，精度 ±${fix.accuracy_m} 米`;
    }, (e) => { out.textContent = `无法定位（${e.message || e.code}），可不带定位保存`; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  };
  take();
  const again = h('button', { type: 'button', class: 'btn small' }, '重新定位');
  again.addEventListener('click', take);
  return { fix, el: h('div', { class: 'card' }, h('h2', {}, '定位'), out, again) };
}

function itemControl(item) {
  const name = `a_${item.key}`;
  if (item.kind === 'bool') {
    return { el: radios(item.label, name, [['true', '是'], ['false', '否']], null),
      read: (f) => { const v = f.querySelector(`input[name="${name}"]:checked`); return v ? v.value === 'true' : undefined; } };
  }
  if (item.kind === 'number') {
    const input = h('input', { type: 'number', name, inputmode: 'numeric', min: item.min, max: item.max });
    const unit = item.unit && !item.label.includes(item.unit) ? `（${item.unit}）` : '';
    return { el: field(`${item.label}${unit}`, input, item.help),
      read: () => (input.value === '' ? undefined : Number(input.value)) };
  }
  return { el: h('fieldset', { class: 'choices' }, h('legend', {}, item.label),
    (item.options || []).map((o) => checkbox(o.label, `${name}:${o.key}`))),
  read: (f) => (item.options || []).filter((o) => f.querySelector(`input[name="${name}:${o.key}"]`).checked).map((o) => o.key) };
}

export async function render(childId) {
  const c = store.one('child', childId);
  if (!c) return page('未找到', h('p', {}, '这个儿童不在本机数据中。'));
  const templates = (await store.reference('templates')) || [];
  const template = templates.find((t) => !t.venue_types || !t.venue_types.length);
  const gps = gpsWidget();
  const controls = template ? template.items.map((item) => ({ item, ...itemControl(item) })) : [];
  const notes = h('textarea', { name: 'notes', rows: '4' });
  const followUp = checkbox('需要跟进', 'follow_up');
  const form = h('form', { class: 'stack' }, gps.el,
    template ? h('div', { class: 'card' }, h('h2', {}, `${template.title}（第 ${template.version} 版）`), controls.map((x) => x.el))
      : h('p', { class: 'banner warn' }, '尚未下载走访清单，联网同步后可填写清单；现在可只记录备注。'),
    field('走访情况', notes), followUp,
    h('button', { type: 'submit', class: 'btn primary wide' }, '保存走访'));
  form.addEventListener('input', () => form.setAttribute('data-dirty', ''));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const answers = {};
    for (const x of controls) { const v = x.read(form); if (v !== undefined) answers[x.item.key] = v; }
    const data = { child_id: childId, visited_at: isoNow(), template_version: template ? template.version : null,
      answers, notes: notes.value || null, follow_up: form.querySelector('input[name="follow_up"]').checked };
    if (gps.fix.lat !== null) Object.assign(data, gps.fix);
    form.removeAttribute('data-dirty');
    await store.create('visit', data);
    toast('走访已保存在本机，待同步');
    location.hash = `#/child/${childId}`;
  });
  return page(`走访 ${c.name}`, form);
}
