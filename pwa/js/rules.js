// The server's risk rules as the phone applies them offline (services/risk.py): their conditions on
// visit answers, and the follow-ups (待落实事项) a child's visits call for.
import * as store from './store.js';

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

const answered = (asked, answers) => !asked.length
  || asked.some((k) => answers[k] !== undefined && answers[k] !== null);

/** What child `c`'s visits call for, as `{key, detail, unit}` (risk.basis_after): for each follow-up,
 *  the latest standing visit the phone holds that answered what it reads decides, synced or saved
 *  here and not synced yet; with none, the server's word (the child's follow_ups). */
function followUpsOf(c, rules, amended) {
  const visits = store.counted('visit', store.visitsOf(c.id)).filter((v) => !amended.has(v.id));
  const server = c.follow_ups || [];
  const due = rules.filter((f) => {
    const decider = visits.find((v) => answered(reads(f.when), v.answers || {}));
    return decider ? holds(f.when, decider.answers || {}, c.categories || []) : server.includes(f.key);
  });
  const unknown = server.filter((key) => !rules.some((f) => f.key === key))
    .map((key) => ({ key, detail: '待落实事项', unit: '' }));
  return [...due, ...unknown];
}

/** Whether the worker marked child `c`'s latest standing visit 需要跟进 (the visit's follow_up): a
 *  reminder of their own, until a later visit leaves it unmarked. */
export function markedForFollowUp(c, amended = store.amendedIds('visit')) {
  const latest = store.counted('visit', store.visitsOf(c.id)).find((v) => !amended.has(v.id));
  return Boolean(latest && latest.follow_up);
}

/** All that waits to be done for child `c`, in words: what its visits call for, and a visit marked
 *  需要跟进. `amended`: store.amendedIds('visit'), read once for a list of children (it reads every
 *  visit: once a child, 今日待办 took a third of a second to draw on unlocking 300 children). */
export function toDoFor(c, rules, amended = store.amendedIds('visit')) {
  return [...followUpsOf(c, rules, amended).map(followUpText),
    ...(markedForFollowUp(c, amended) ? ['走访时标记需要跟进'] : [])];
}

/** A follow-up in words: what to do, and who does it. */
const followUpText = (f) => (f.unit ? `${f.detail}（${f.unit}）` : f.detail);
