// Correcting a fact (a visit, an inspection): a new record that names the one it amends and why.
// The original stays, muted; it is corrected once, and after that through its correction.
import { h, field, isoNow, fmtTime, byTimeNewest } from './ui.js';
import * as store from './store.js';
import * as state from './state.js';

export const AMEND_REASON_MAX = 500;

/** Why `record` (null when not this phone's, or not of the screen's child or venue) cannot be
 *  corrected here, or null; `kind` names it ('走访记录'), `owner` is the field naming its author. */
export function notAmendable(entity, record, kind, owner) {
  if (!record) return `这条${kind}不在本机数据中。`;
  if (store.amendedIds(entity).has(record.id)) return `这条${kind}已更正，请在更正后的记录上再更正。`;
  if (record[owner] && record[owner] !== (state.get().user || {}).id) return `只能更正自己的${kind}。`;
  if (record._pending) return `这条${kind}还没有同步，同步后才能更正。`;
  return null;
}

/** Newest first by the time field `at`; a correction keeps its original's time, so it goes right above it. */
export const newestFirst = (at) => (a, b) => byTimeNewest(at)(a, b)
  || (a.amends === b.id ? -1 : 0) || (b.amends === a.id ? 1 : 0);

const localInput = (value) => isoNow(new Date(value)).slice(0, 19);

/** The correction's own fields: the reason, and the record's time `at` (labelled `atLabel`), the
 *  original's kept to the microsecond unless changed; `extra` goes above the reason. `read()`
 *  returns `{amends, amend_reason, [at]}`, or null after showing what is missing. */
export function amendFields(original, { kind, at, atLabel, extra = null }) {
  const reason = h('textarea', { name: 'amend_reason', rows: '3', maxlength: String(AMEND_REASON_MAX), 'aria-required': 'true' });
  const error = h('p', { class: 'error', role: 'alert' });
  const when = h('input', { type: 'datetime-local', name: at, step: '1', value: localInput(original[at]) });
  const initial = when.value;  // as the browser normalised it (whole minutes lose their ':00')
  const card = h('div', { class: 'card', 'data-testid': 'amend' }, h('h2', {}, '更正说明'),
    h('p', {}, `更正 ${fmtTime(original[at])} 的${kind}。原记录保留，以更正后的记录为准。`), extra,
    field('更正原因（必填）', reason, `写明更正了什么、为什么，最多 ${AMEND_REASON_MAX} 字`), error,
    field(atLabel, when, `默认为原记录的${atLabel}`));
  const read = () => {
    const text = reason.value.trim();
    error.textContent = !text ? '请写明更正原因' : text.length > AMEND_REASON_MAX ? `更正原因最多 ${AMEND_REASON_MAX} 字` : '';
    if (error.textContent) { reason.focus(); return null; }
    if (!when.value) { error.textContent = `请填写${atLabel}`; when.focus(); return null; }
    return { amends: original.id, amend_reason: text,
      [at]: when.value === initial ? original[at] : isoNow(new Date(when.value)) };
  };
  return { el: card, read };
}
