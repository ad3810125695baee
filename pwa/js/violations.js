// Open violations worked out on the phone from the inspections it holds, by the server's rule:
// a failed item stays open until a re-inspection down its chain passes that item.
import * as store from './store.js';

function followUps(inspections) {
  const map = new Map();
  for (const i of inspections) {
    if (!i.reinspection_of) continue;
    if (!map.has(i.reinspection_of)) map.set(i.reinspection_of, []);
    map.get(i.reinspection_of).push(i);
  }
  return map;
}

function passedLater(inspection, children) {
  const passed = new Set();
  const stack = [...(children.get(inspection.id) || [])];
  while (stack.length) {
    const next = stack.pop();
    for (const a of next.answers || []) if (a.result === 'pass') passed.add(a.item);
    stack.push(...(children.get(next.id) || []));
  }
  return passed;
}

/** A venue's open violations, newest inspection first: `{inspection, item, deadline, note}`. */
export function openViolations(venueId) {
  const inspections = store.inspectionsOf(venueId);
  const children = followUps(inspections);
  const open = [];
  for (const inspection of inspections) {
    const closed = passedLater(inspection, children);
    for (const a of inspection.answers || []) {
      if (a.result === 'fail' && !closed.has(a.item)) {
        open.push({ inspection, item: a.item, deadline: a.deadline || null, note: a.note || null });
      }
    }
  }
  return open;
}

/** What a re-inspection should look at: the newest inspection with open violations, and the open
 *  items of its chain (itself and the inspections it re-inspected), one per item, newest kept. */
export function reinspectionTarget(venueId) {
  const open = openViolations(venueId);
  if (!open.length) return null;
  return chainOf(venueId, open[0].inspection.id, open);
}

export function chainOf(venueId, inspectionId, open = openViolations(venueId)) {
  const chain = new Set();
  for (let id = inspectionId; id && !chain.has(id);) {
    chain.add(id);
    id = (store.one('inspection', id) || {}).reinspection_of;
  }
  const items = new Map();
  for (const v of open) if (chain.has(v.inspection.id) && !items.has(v.item)) items.set(v.item, v);
  const original = store.one('inspection', inspectionId);
  return original ? { inspection: original, items: [...items.values()] } : null;
}
