// 登记场所: a venue the register lacks (a new 民宿, an unlicensed internet cafe), added in the field by
// an inspector, a village head or the town office, offline too, at the phone's location; it syncs as
// any record and can be inspected at once.
import { h, field, moveOn, onSave, page, toast } from '../ui.js';
import * as store from '../store.js';
import { phoneProblem, plain } from '../checks.js';
import { gpsWidget } from './visit.js';
import { VENUE_TYPE } from '../i18n/zh-CN.js';

function choose(name, options) {
  return h('select', { name, required: true }, h('option', { value: '' }, '请选择'),
    options.map(([value, text]) => h('option', { value }, text)));
}

/** What keeps the venue from being saved, or ''. */
function refusal(f) {
  if (!f.village_id.value) return '请选择村/社区';
  if (!f.type.value) return '请选择场所类型';
  if (!f.name.value.trim()) return '请填写场所名称';
  const phone = plain(f.contact_phone.value);
  return phone ? phoneProblem(phone) || '' : '';
}

export async function render() {
  const villages = (await store.reference('places')) || [];
  const gps = gpsWidget(null, '该场所');
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack', novalidate: true },
    field('村/社区', choose('village_id', villages.map((v) => [v.id, v.name]))),
    field('类型', choose('type', Object.entries(VENUE_TYPE))),
    field('场所名称', h('input', { name: 'name', maxlength: '200', autocomplete: 'off' })),
    field('地址', h('input', { name: 'address', maxlength: '300', autocomplete: 'off' })),
    field('营业执照或许可证号', h('input', { name: 'licence_no', maxlength: '100', autocomplete: 'off' })),
    field('联系人', h('input', { name: 'contact_name', maxlength: '50', autocomplete: 'off' })),
    field('联系电话', h('input', { name: 'contact_phone', type: 'tel', autocomplete: 'off' })),
    gps.el, error, h('button', { type: 'submit', class: 'btn primary wide' }, '保存场所'));
  onSave(form, async (f) => {
    error.textContent = refusal(f);
    if (error.textContent) return false;
    const text = (name) => f[name].value.trim() || null;
    const data = { village_id: f.village_id.value, type: f.type.value, name: f.name.value.trim(),
      address: text('address'), licence_no: text('licence_no'), contact_name: text('contact_name'),
      contact_phone: plain(f.contact_phone.value) || null, status: 'open' };
    if (gps.fix.lat !== null) Object.assign(data, { lat: gps.fix.lat, lon: gps.fix.lon });
    await store.create('venue', data, [], [], form);
    toast('场所已保存在本机，待同步');
    moveOn(form, '#/venues');
  });
  return page('登记场所', villages.length ? form
    : h('p', { class: 'banner warn' }, '本机还没有村/社区名单，请联网同步后再登记场所。'));
}
