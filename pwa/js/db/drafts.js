// Drafts: the typing of a form not yet saved, sealed in the meta store under its screen and form,
// so that a tab the phone's browser dropped (the camera opened, another app, a reload) loses none
// of it. Only the key (the screen's address and the form) stays in clear; the time is sealed too.
import { done, sealDraft, tx, unsealDraft } from './idb.js';

const PREFIX = 'draft:';
const ALL = IDBKeyRange.bound(PREFIX, `${PREFIX}\uffff`);

/** The draft kept under `name` as it was put, or null. */
export async function draftGet(name) {
  const row = await tx(['meta'], 'readonly', (s) => done(s.meta.get(`${PREFIX}${name}`)));
  return row ? unsealDraft(name, row) : null;
}

/** Keep `value` ({at, ...}, at in ms) as the draft under `name`. */
export async function draftPut(name, value) {
  const row = { k: `${PREFIX}${name}`, ...(await sealDraft(name, value)) };
  await tx(['meta'], 'readwrite', (s) => { s.meta.put(row); });
}

export async function draftDelete(name) {
  await tx(['meta'], 'readwrite', (s) => { s.meta.delete(`${PREFIX}${name}`); });
}

/** Delete the drafts last typed in before `before` (ms), and those that no longer open. */
export async function draftsPrune(before) {
  const rows = await tx(['meta'], 'readonly', (s) => done(s.meta.getAll(ALL)));
  const old = [];
  for (const row of rows) {
    const name = row.k.slice(PREFIX.length);
    const draft = await unsealDraft(name, row).catch(() => null);
    if (!draft || !(draft.at >= before)) old.push(row.k);
  }
  if (old.length) await tx(['meta'], 'readwrite', (s) => { old.forEach((k) => s.meta.delete(k)); });
}
