// Drafts: the typing of a form not yet saved, sealed in the meta store under its screen, so that a
// tab the phone's browser dropped (the camera opened, another app, a reload) loses none of it.
// The row's key and time stay in clear; what was typed is sealed like every record.
import { done, sealDraft, tx, unsealDraft } from './idb.js';

const PREFIX = 'draft:';
const ALL = IDBKeyRange.bound(PREFIX, `${PREFIX}\uffff`);

/** The draft kept under `name`, `{at, value}` (at in ms), or null. */
export async function draftGet(name) {
  const row = await tx(['meta'], 'readonly', (s) => done(s.meta.get(`${PREFIX}${name}`))).then((p) => p);
  return row ? { at: row.at, value: await unsealDraft(name, row) } : null;
}

export async function draftPut(name, value) {
  const row = { k: `${PREFIX}${name}`, at: Date.now(), ...(await sealDraft(name, value)) };
  await tx(['meta'], 'readwrite', (s) => { s.meta.put(row); });
}

export async function draftDelete(name) {
  await tx(['meta'], 'readwrite', (s) => { s.meta.delete(`${PREFIX}${name}`); });
}

/** Delete the drafts last typed in before `before` (ms): forms nobody came back to. */
export async function draftsPrune(before) {
  await tx(['meta'], 'readwrite', (s) => {
    const req = s.meta.openCursor(ALL);
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor) return;
      if (!(cursor.value.at >= before)) cursor.delete();
      cursor.continue();
    };
  });
}
