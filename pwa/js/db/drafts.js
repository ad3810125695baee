// Drafts: the typing of a form not yet saved, sealed in the meta store under its screen and form,
// so that a tab the phone's browser dropped (the camera opened, another app, a reload) loses none
// of it, nor the photos picked in it (each sealed in a row of its own beside the draft). Only the
// keys (the screen's address and the form, a photo's id) and a photo's type stay in clear.
import { done, sealDraft, sealDraftFile, tx, unsealDraft, unsealDraftFile } from './idb.js';

const PREFIX = 'draft:';
const ALL = IDBKeyRange.bound(PREFIX, `${PREFIX}\uffff`);
const FILES = 'draftfile:';
const fileKey = (name, id) => `${FILES}${name}#${id}`;
const filesOf = (name) => IDBKeyRange.bound(fileKey(name, ''), fileKey(name, '\uffff'));
/** A file's key as [its draft's name, its id] (an id holds no '#'). */
const ofFileKey = (k) => [k.slice(FILES.length, k.lastIndexOf('#')), k.slice(k.lastIndexOf('#') + 1)];

/** The draft kept under `name` as it was put, or null. */
export async function draftGet(name) {
  const row = await tx(['meta'], 'readonly', (s) => done(s.meta.get(`${PREFIX}${name}`)));
  return row ? unsealDraft(name, row) : null;
}

/** The names of the drafts kept for screen-and-form `base`: its own and those of other tabs (`base|n`). */
export async function draftNames(base) {
  const own = `${PREFIX}${base}`;
  const keys = await tx(['meta'], 'readonly', (s) => done(s.meta.getAllKeys(IDBKeyRange.bound(own, `${own}|\uffff`))));
  return keys.filter((k) => k === own || /^\|\d+$/.test(k.slice(own.length))).map((k) => k.slice(PREFIX.length));
}

/** Keep `value` ({at, ...}, at in ms) as the draft under `name`. */
export async function draftPut(name, value) {
  const row = { k: `${PREFIX}${name}`, ...(await sealDraft(name, value)) };
  await tx(['meta'], 'readwrite', (s) => { s.meta.put(row); });
}

/** Forget the draft under `name`, and the files kept with it. */
export async function draftDelete(name) {
  await tx(['meta'], 'readwrite', (s) => forgetDraftIn(s.meta, name));
}

/** Forget the draft under `name` and its files in the transaction of `meta` (its object store). */
export function forgetDraftIn(meta, name) {
  meta.delete(`${PREFIX}${name}`);
  meta.delete(filesOf(name));
}

/** Keep a file picked in the form of draft `name` (a photo, a Blob) under its `id`. */
export async function draftFilePut(name, id, blob) {
  const row = { k: fileKey(name, id), id, type: blob.type,
    ...(await sealDraftFile(name, id, await blob.arrayBuffer())) };
  await tx(['meta'], 'readwrite', (s) => { s.meta.put(row); });
}

export async function draftFileDelete(name, id) {
  await tx(['meta'], 'readwrite', (s) => { s.meta.delete(fileKey(name, id)); });
}

/** The files kept for draft `name`, as [{id, blob}] (in no particular order). */
export async function draftFiles(name) {
  const rows = await tx(['meta'], 'readonly', (s) => done(s.meta.getAll(filesOf(name))));
  return Promise.all(rows.map(async (row) => ({ id: row.id,
    blob: new Blob([await unsealDraftFile(name, row.id, row)], { type: row.type }) })));
}

/** Delete the drafts last typed in before `before` (ms), and those that no longer open, with their
 *  files; and the files no draft kept lists. */
export async function draftsPrune(before) {
  const rows = await tx(['meta'], 'readonly', (s) => done(s.meta.getAll(ALL)));
  const old = [];
  const listed = new Map();  // a draft kept: the ids of its files
  for (const row of rows) {
    const name = row.k.slice(PREFIX.length);
    const draft = await unsealDraft(name, row).catch(() => null);
    if (!draft || !(draft.at >= before)) old.push(row.k);
    else listed.set(name, new Set(draft.files || []));
  }
  // A file stays only while a draft kept lists it (one written as the tab dropped may not be).
  const files = await tx(['meta'], 'readonly', (s) => done(s.meta.getAllKeys(IDBKeyRange.bound(FILES, `${FILES}\uffff`))));
  const orphans = files.filter((k) => {
    const [name, id] = ofFileKey(k);
    return !listed.get(name)?.has(id);
  });
  if (old.length || orphans.length) {
    await tx(['meta'], 'readwrite', (s) => { [...old, ...orphans].forEach((k) => s.meta.delete(k)); });
  }
}
