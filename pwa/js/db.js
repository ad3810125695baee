// The phone's encrypted store: the one module the app imports for it. Its parts live in db/ and
// import one another, never this module.
export { setKey, hasKey, wipe, onUpgrade } from './db/idb.js';
export { getAuth, countFailure, createAuth, updateAuth, kvGet, kvSet } from './db/meta.js';
export { allRecords, heldRecords, saveLocal } from './db/records.js';
export { outboxByState, outboxCounts, queuedOps, recordOps, applyPush, retryOp, correctOp, retryWaiting, waitsFor,
  filedOn } from './db/outbox.js';
export { applyPull, putServerRecord, resetForResync, keptCopy } from './db/pull.js';
export { serverCopy, resolveConflict } from './db/conflicts.js';
export { photoIds, photosByState, photo, photoCounts, markPhoto, deletePhoto } from './db/photo-queue.js';
export { draftGet, draftNames, draftPut, draftDelete, draftsPrune, draftFilePut, draftFileDelete, draftFiles } from './db/drafts.js';
