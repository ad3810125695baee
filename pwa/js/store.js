// The decrypted working copy of the phone's records, and the saves that queue ops.
import * as db from './db.js';
import { newId } from './crypto.js';
import * as state from './state.js';
import { savingDraft } from './drafts.js';
import { byTime, byTimeNewest } from './ui.js';

let byEntity = new Map();
let visitsByChild = new Map();  // a child's id: its visits, newest first (the to-do asks for every child's)
let refusedKeys = new Set();  // entity:id of the records whose op the server refused, until it is retried or given up
const changed = new Set();
// The pull cursor of the records loaded, and of those the screen shows: a screen that holds typing
// is not redrawn by a load, so it may show records a pull has since taken off the phone.
let loaded = null;
let shown = null;

/** The cursor of the records loaded now, for a screen about to draw them (app.js). */
export const loadedCursor = () => loaded;
/** Note that the screen shows the records as of `cursor`. */
export function markShown(cursor) { shown = cursor; }
/** The cursor of the records the screen on show was drawn from. */
export const shownCursor = () => shown;

export function onChange(fn) { changed.add(fn); return () => changed.delete(fn); }

// A child's latest visit as the server takes it (risk.latest_visit): by the time it counts at (the
// phone's, but never after the server received it: a phone clock running fast does not make a visit
// the latest), then by when received; one not synced yet is newest among its time's.
const countedAt = (v) => Date.parse(v.counted_at || v.visited_at) || 0;
const receivedAt = (v) => (v.received_at ? Date.parse(v.received_at) : Number.MAX_SAFE_INTEGER);
const latestVisitFirst = (a, b) => (countedAt(b) - countedAt(a)) || (receivedAt(b) - receivedAt(a));

export async function load() {
  const { records: rows, cursor } = await db.heldRecords();
  const next = new Map();
  for (const r of rows) {
    if (!next.has(r.entity)) next.set(r.entity, new Map());
    next.get(r.entity).set(r.id, { ...r.data, id: r.id, _version: r.version, _pending: r.pending });
  }
  byEntity = next;
  visitsByChild = new Map();
  for (const v of all('visit').sort(latestVisitFirst)) {
    if (!visitsByChild.has(v.child_id)) visitsByChild.set(v.child_id, []);
    visitsByChild.get(v.child_id).push(v);
  }
  loaded = cursor;
  await refreshCounts();
  for (const fn of changed) fn();
}

export async function refreshCounts() {
  const [c, p] = await Promise.all([db.outboxCounts(), db.photoCounts()]);
  state.set({ unsynced: c.pending + c.rejected + c.conflict + p.pending + p.rejected,
    attention: c.rejected + p.rejected, conflicts: c.conflict });
  // The counts are read without the key (a revoked phone's wipe counts what it loses); which
  // records were refused is sealed with the ops.
  if (!c.rejected) refusedKeys = new Set();
  else if (db.hasKey()) {
    refusedKeys = new Set((await db.outboxByState('rejected')).map((op) => `${op.entity}:${op.id}`));
  }
}

export const all = (entity) => [...(byEntity.get(entity) || new Map()).values()];
export const one = (entity, id) => (byEntity.get(entity) || new Map()).get(id) || null;

export const children = () => all('child').filter((c) => c.status !== 'moved_out' && c.status !== 'aged_out')
  .sort((a, b) => (a.name || '').localeCompare(b.name || '', 'zh-CN'));
/** A child's visits, the latest first as the server orders them (latestVisitFirst). */
export const visitsOf = (childId) => [...(visitsByChild.get(childId) || [])];
/** Whether the server refused an op of this record, so that what the phone holds of it is not on
 *  the server: a refused visit does not count as the child's visit. */
export const refused = (entity, id) => refusedKeys.has(`${entity}:${id}`);
/** Of `records` of `entity`, those that count as done: all but those the server refused. */
export const counted = (entity, records) => records.filter((r) => !refused(entity, r.id));
/** A record's sync state as its tag shows it: refused, waiting to sync, or synced (null). */
export const syncState = (entity, r) => (refused(entity, r.id) ? 'refused' : r._pending ? 'pending' : null);

/** Ids of the facts of `entity` (visits, inspections) that another, synced or still on this phone, corrects
 *  (a correction the server refused corrects nothing). */
export const amendedIds = (entity) => new Set(counted(entity, all(entity)).map((r) => r.amends).filter(Boolean));
/** The user's visits the village head questioned that no visit corrects yet, oldest first. */
export function questionedVisits(userId) {
  const amended = amendedIds('visit');
  return all('visit').filter((v) => v.review_status === 'questioned' && v.worker_id === userId && !amended.has(v.id))
    .sort(byTime('visited_at'));
}
export const plansOf = (childId) => all('plan').filter((p) => p.child_id === childId);
/** A plan's progress entries that stand (a correction replaces what it corrects), newest first. */
export function progressOf(planId) {
  const amended = amendedIds('plan_progress');
  return all('plan_progress').filter((e) => e.plan_id === planId && !amended.has(e.id)).sort(byTimeNewest('at'));
}
export const inspectionsOf = (venueId) => all('inspection').filter((i) => i.venue_id === venueId)
  .sort(byTimeNewest('inspected_at'));
/** The staff checks of the people of a venue (or of a unit, `kind` 'unit'), newest check first (one
 *  saved here and not synced yet, with no created_at, before the server's of the same day). */
export const staffChecksOf = (employerId, kind = 'venue') => all('staff_check')
  .filter((c) => c.employer_kind === kind && c.employer_id === employerId)
  .sort((a, b) => String(b.checked_on).localeCompare(String(a.checked_on))
    || String(b.created_at || '\uffff').localeCompare(String(a.created_at || '\uffff')));

/** Search by name or pinyin initials (computed by the server as name_initials). */
export function searchChildren(q) {
  const s = q.trim().toLowerCase();
  if (!s) return children();
  return children().filter((c) => (c.name || '').includes(q.trim()) || (c.name_initials || '').startsWith(s)
    || (c.name_initials || '').includes(s));
}

/** Create a record (a fact or a new mutable record) and its op, in one transaction, with any
 *  photos of it (`{id, bytes}`) queued for upload, and the draft of the form it is saved `from`
 *  forgotten, in the same transaction. `kept`, when given, is the record as the phone keeps and
 *  shows it, where that must hold less than the op sends (an ID number masked as the server shows it). */
export async function create(entity, data, extra = [], photos = [], from = null, kept = null) {
  const id = data.id || newId();
  const withoutId = ({ id: _, ...rest }) => rest;
  const items = [{ entity, id, data: withoutId(data) }, ...extra];
  // What the phone held as its screen showed the record: a pull before the push may take it away.
  const cursor = shown || loaded;
  const ops = items.map((it) => ({ op_id: newId(), entity: it.entity, action: 'create', id: it.id,
    base_version: null, data: it.data, cursor }));
  const records = items.map(({ entity: e, id: i, data: d }, n) => ({ entity: e, id: i,
    data: n === 0 && kept ? withoutId(kept) : d }));
  await db.saveLocal(records, ops,
    photos.map((p) => ({ ...p, inspection_id: id })), savingDraft(from));
  await loadSaved();
  return id;
}

/** Read the store again after a save committed: a failure to read back is not a failed save, which
 *  the form would offer to make a second time (ui.onSave); the next load shows the record. */
const loadSaved = () => load().catch(() => {});

// An empty text and no text are the same to a form: a field never filled saved empty is no edit.
const same = (value) => JSON.stringify(value === '' || value === undefined ? null : value);

/** Queue an edit of the fields that differ from the copy the form was `drawn` from (else the local
 *  copy), on the version it rests on, and resolve 'queued'; 'same' when none differ (a second tap on
 *  a redrawn form, a save of what is already there), 'gone' when the phone no longer holds the
 *  record (moved out of reach while its screen was open): neither queues anything. */
export async function update(entity, id, edits, from = null, drawn = null) {
  const current = one(entity, id);
  if (!current) return 'gone';
  const { _version: version, _pending: pending, ...data } = current;
  // A sync may have brought another's edit while the form was open, and the screen is not redrawn
  // under typing: the edit rests on what the form showed, so the server sees it as stale and
  // keeps the other edit (merged, or a conflict), never overwritten unseen.
  // (A new record's form shows no server version: its edit rests on what its create produces.)
  const seen = drawn && drawn._version != null && drawn._version !== version ? drawn : null;
  const changes = Object.fromEntries(Object.entries(edits)
    .filter(([k, v]) => v !== undefined && same(v) !== same((seen || data)[k])));
  if (!Object.keys(changes).length) return 'same';
  // An edit on top of my own unsynced edit rests on whatever that one produces: the push fills
  // in its base version once the earlier op is applied.
  const chain = !seen && pending > 0;
  const op = { op_id: newId(), entity, action: 'update', id,
    base_version: seen ? seen._version : chain ? null : version, data: changes, chain };
  // The phone may have let the record go since this copy was read (a sync's pull, written before
  // the store is read again at its end): then nothing is queued.
  const saved = await db.saveLocal([{ entity, id, data: { ...data, ...changes, id: undefined } }], [op], [],
    savingDraft(from));
  await loadSaved();
  return saved ? 'queued' : 'gone';
}

/** Take a record as an online action's answer left it, so local screens show it before the next pull. */
export async function keepServer(entity, record) {
  await db.putServerRecord(entity, record.id, record.version, record);
  await load();
}

/** Reference data kept for offline forms: 'templates' (checklists), 'cluePrompt' (which answers prompt a
 *  clue), 'followUps' (which call for a follow-up) and 'places'. */
export const reference = (name) => db.kvGet(name);
