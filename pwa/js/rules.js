// The server's risk rules as the phone applies them offline (services/risk.py): their conditions on
// visit answers, and the follow-ups a child's latest visit calls for.
import * as store from './store.js';

const COMPARE = { eq: (a, b) => a === b, ne: (a, b) => a !== b, gte: (a, b) => a >= b, gt: (a, b) => a > b,
  lte: (a, b) => a <= b, lt: (a, b) => a < b };

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

/** The follow-ups the rules know (`{key, detail, unit, when}`), as GET /api/checklists last gave them. */
export async function followUpRules() {
  return (await store.reference('followUps')) || [];
}

/** What child `c`'s latest visit calls for, as `{key, detail, unit}`: the server's word (the child's
 *  follow_ups), unless a visit saved on this phone and not synced yet is newer, which decides as the
 *  server will once it has it. */
export function followUpsOf(c, rules) {
  const mine = store.counted('visit', store.visitsOf(c.id)).find((v) => v._pending && !v.amends);
  if (mine) return rules.filter((f) => holds(f.when, mine.answers || {}, c.categories || []));
  return (c.follow_ups || []).map((key) => rules.find((f) => f.key === key) || { key, detail: '待跟进事项', unit: '' });
}

/** A follow-up in words: what to do, and who does it. */
export const followUpText = (f) => (f.unit ? `${f.detail}（${f.unit}）` : f.detail);
