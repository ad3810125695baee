// Open violations worked out on the phone from the inspections it holds, by the server's rule:
// within a re-inspection chain an item's latest check decides: a pass closes it, a fail carries
// it forward with that inspection's deadline, so one problem is one violation.
import * as store from './store.js';

const time = (i) => Date.parse(i.inspected_at) || 0;

function rootOf(inspection, byId) {
  const seen = new Set([inspection.id]);
  let current = inspection;
  while (current.reinspection_of && byId.has(current.reinspection_of) && !seen.has(current.reinspection_of)) {
    current = byId.get(current.reinspection_of);
    seen.add(current.id);
  }
  return current.id;
}

function venueInspections(venueId) {
  const inspections = store.inspectionsOf(venueId).slice().sort((a, b) => time(a) - time(b));
  return { inspections, byId: new Map(inspections.map((i) => [i.id, i])) };
}

/** A venue's open violations, newest inspection first: `{inspection, root, item, deadline, note}`. */
export function openViolations(venueId) {
  const { inspections, byId } = venueInspections(venueId);
  const latest = new Map();
  for (const inspection of inspections) {
    const root = rootOf(inspection, byId);
    for (const a of inspection.answers || []) {
      if (a.result === 'pass' || a.result === 'fail') latest.set(`${root}\u0000${a.item}`, { inspection, root, a });
    }
  }
  return [...latest.values()].filter(({ a }) => a.result === 'fail')
    .sort((x, y) => time(y.inspection) - time(x.inspection))
    .map(({ inspection, root, a }) => ({ inspection, root, item: a.item, deadline: a.deadline || null,
      note: a.note || null }));
}

/** The inspection a re-inspection links to, with the open items of its chain, one per item. */
export function chainOf(venueId, inspectionId, open = openViolations(venueId)) {
  const { byId } = venueInspections(venueId);
  const original = byId.get(inspectionId);
  if (!original) return null;
  const root = rootOf(original, byId);
  return { inspection: original, items: open.filter((v) => v.root === root) };
}
