// The server's risk rules as the phone applies them offline (services/risk.py): their conditions on
// visit answers, and the follow-ups (待落实事项) a child's visits call for.
import * as store from './store.js';
import { byTime } from './ui.js';

const COMPARE = { eq: (a, b) => a === b, ne: (a, b) => a !== b, gte: (a, b) => a >= b, gt: (a, b) => a > b,
  lte: (a, b) => a <= b, lt: (a, b) => a < b };
// A phone that has not fetched the rules since this release: the follow-ups the rules shipped with.
const SHIPPED = [{ key: 'schedule_education', detail: '安排防性侵教育（"六个一"）', unit: '学校',
  when: { answer: 'prevention_education', op: 'eq', value: false } }];

/** Whether a risk-rule condition holds for visit `answers` and a child's `categories`, as the server
 *  reads it: a missing answer, or one of another type, never matches. */
export function holds(condition, answers, categories) {
  if (condition.all) return condition.all.every((c) => holds(c, answers, categories));
  if (condition.any) return condition.any.some((c) => holds(c, answers, categories));
  if (condition.category) return categories.includes(condition.category);
  const value = answers[condition.answer];
  if (condition.op === 'any') return Array.isArray(value) && value.length > 0;
  const compare = COMPARE[condition.op];
  return value !== undefined && value !== null && compare !== undefined
    && (typeof value === 'boolean') === (typeof condition.value === 'boolean') && compare(value, condition.value);
}

/** The visit answers a condition reads. */
function reads(condition) {
  const parts = condition.all || condition.any;
  if (parts) return parts.flatMap(reads);
  return condition.answer ? [condition.answer] : [];
}

/** The follow-ups the rules know (`{key, detail, unit, when}`), as GET /api/checklists last gave them. */
export async function followUpRules() {
  return (await store.reference('followUps')) || SHIPPED;
}

/** risk.follow_ups_after(): the follow-up keys after a visit with `answers`, having had `previous`. A
 *  visit that answers what a follow-up reads decides it; one that leaves it unanswered keeps it. */
function after(previous, answers, categories, rules) {
  return rules.filter((f) => {
    const asked = reads(f.when);
    const answered = !asked.length || asked.some((k) => answers[k] !== undefined && answers[k] !== null);
    return answered ? holds(f.when, answers, categories) : previous.includes(f.key);
  }).map((f) => f.key);
}

/** What child `c`'s visits call for, as `{key, detail, unit}`: the server's word (the child's
 *  follow_ups, as of its last visit the server has), then each visit saved on this phone and not
 *  synced yet that stands and is not older, oldest first, as the server will take them. */
function followUpsOf(c, rules) {
  const amended = store.amendedIds('visit');
  const since = c.last_visit_at ? Date.parse(c.last_visit_at) : -Infinity;
  const mine = store.counted('visit', store.visitsOf(c.id))
    .filter((v) => v._pending && !amended.has(v.id) && Date.parse(v.visited_at) >= since).sort(byTime('visited_at'));
  let keys = c.follow_ups || [];
  for (const v of mine) keys = after(keys, v.answers || {}, c.categories || [], rules);
  return keys.map((key) => rules.find((f) => f.key === key) || { key, detail: '待落实事项', unit: '' });
}

/** Whether the worker marked child `c`'s latest standing visit 需要跟进 (the visit's follow_up): a
 *  reminder of their own, until a later visit leaves it unmarked. */
export function markedForFollowUp(c) {
  const amended = store.amendedIds('visit');
  const latest = store.counted('visit', store.visitsOf(c.id)).find((v) => !amended.has(v.id));
  return Boolean(latest && latest.follow_up);
}

/** All that waits to be done for child `c`, in words: what its visits call for, and a visit marked 需要跟进. */
export function toDoFor(c, rules) {
  return [...followUpsOf(c, rules).map(followUpText), ...(markedForFollowUp(c) ? ['走访时标记需要跟进'] : [])];
}

/** A follow-up in words: what to do, and who does it. */
const followUpText = (f) => (f.unit ? `${f.detail}（${f.unit}）` : f.detail);
