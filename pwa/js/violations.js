// Open violations worked out on the phone from the inspections it holds, by the server's rule:
// within a re-inspection chain an item's latest check decides: a pass closes it, a fail carries
// it forward with that inspection's deadline, so one problem is one violation. A corrected
// inspection stops counting: its last correction stands for it, in chains too.
import * as store from './store.js';

// When an inspection counts as made, as the server stamped it (its time, or when it arrived if the
// phone dated it later); one not yet synced counts at its own time.
const time = (i) => Date.parse(i.counted_at || i.inspected_at) || 0;

/** Each inspection's id mapped to the one that stands for it: itself, or its last correction. */
function standingIds(inspections) {
  const replacedBy = new Map(inspections.filter((i) => i.amends).map((i) => [i.amends, i.id]));
  const standing = new Map();
  for (const inspection of inspections) {
    let current = inspection.id;
    const seen = new Set([current]);
    while (replacedBy.has(current) && !seen.has(replacedBy.get(current))) {
      current = replacedBy.get(current);
      seen.add(current);
    }
    standing.set(inspection.id, current);
  }
  return standing;
}

// A re-inspection of a corrected inspection re-checks the correction.
function rootOf(inspection, byId, standing) {
  const seen = new Set([inspection.id]);
  let current = inspection;
  let checked;
  while ((checked = standing.get(current.reinspection_of)) && byId.has(checked) && !seen.has(checked)) {
    current = byId.get(checked);
    seen.add(current.id);
  }
  return current.id;
}

// Where an inspection falls in its chain, by the server's rule: at its own time, but never before
// the check it re-inspects, whatever its phone's clock said ([time, depth]).
function chainOrder(inspections, byId, standing) {
  const place = new Map();
  const placeOf = (inspection, seen) => {
    if (place.has(inspection.id)) return place.get(inspection.id);
    seen.add(inspection.id);
    const checked = standing.get(inspection.reinspection_of);
    const parent = checked && byId.has(checked) && !seen.has(checked) ? placeOf(byId.get(checked), seen) : null;
    const at = parent ? [Math.max(time(inspection), parent[0]), parent[1] + 1] : [time(inspection), 0];
    place.set(inspection.id, at);
    return at;
  };
  for (const inspection of inspections) placeOf(inspection, new Set());
  return [...inspections].sort((a, b) => place.get(a.id)[0] - place.get(b.id)[0] || place.get(a.id)[1] - place.get(b.id)[1]);
}

// An inspection the server refused is not on the server: its findings open nothing.
function venueInspections(venueId) {
  const inspections = store.counted('inspection', store.inspectionsOf(venueId)).sort((a, b) => time(a) - time(b));
  return { inspections, byId: new Map(inspections.map((i) => [i.id, i])), standing: standingIds(inspections) };
}

/** A venue's open violations, newest inspection first: `{inspection, root, item, deadline, note}`. */
export function openViolations(venueId) {
  const { inspections, byId, standing } = venueInspections(venueId);
  const latest = new Map();
  for (const inspection of chainOrder(inspections, byId, standing)) {
    if (standing.get(inspection.id) !== inspection.id) continue;
    const root = rootOf(inspection, byId, standing);
    for (const a of inspection.answers || []) {
      if (a.result === 'pass' || a.result === 'fail') latest.set(`${root}\u0000${a.item}`, { inspection, root, a });
    }
  }
  return [...latest.values()].filter(({ a }) => a.result === 'fail')
    .sort((x, y) => time(y.inspection) - time(x.inspection))
    .map(({ inspection, root, a }) => ({ inspection, root, item: a.item, deadline: a.deadline || null,
      note: a.note || null }));
}

/** A venue's open violations by re-inspection chain, the newest first: `{inspection, items}`, the
 *  chain's newest inspection with open items (a re-inspection names it) and its open items, one
 *  per item. Each chain is closed only by re-inspecting it. */
export function openChains(venueId, open = openViolations(venueId)) {
  const chains = new Map();
  for (const x of open) {
    if (!chains.has(x.root)) chains.set(x.root, { inspection: x.inspection, items: [] });
    chains.get(x.root).items.push(x);
  }
  return [...chains.values()];
}

/** The inspection a re-inspection links to, with the open items of its chain, one per item. */
export function chainOf(venueId, inspectionId, open = openViolations(venueId)) {
  const { byId, standing } = venueInspections(venueId);
  const original = byId.get(standing.get(inspectionId));
  if (!original) return null;
  const root = rootOf(original, byId, standing);
  return { inspection: original, items: open.filter((v) => v.root === root) };
}
