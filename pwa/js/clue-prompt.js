// Signs of abuse found on a visit prompt a clue (强制报告) at once, with the visit linked. Which
// answers are signs is the server's risk rules' word (GET /api/checklists, kept for offline use).
import * as store from './store.js';
import { byTime, confirmDialog } from './ui.js';
import { holds } from './rules.js';

// A phone that has not fetched the rules since this release: the signs the rules shipped with.
const SHIPPED = { message: '本次走访发现疑似侵害迹象。依照强制报告制度，请立即报告线索。',
  factors: [['injury_signs', '身体有不明伤痕'], ['unknown_adult_contact', '有陌生成年人频繁接触或给予财物']]
    .map(([key, label]) => ({ key, label, when: { answer: key, op: 'eq', value: true } })) };

/** The clue prompt's rules: the message and the factors that are signs of abuse. */
export async function cluePrompt() {
  return (await store.reference('cluePrompt')) || SHIPPED;
}

/** The signs of abuse (`{key, label}`) that a visit's `answers` show for child `child`. */
export function signsOf(prompt, answers, child) {
  const categories = (child && child.categories) || [];
  return prompt.factors.filter((f) => holds(f.when, answers || {}, categories));
}

/** Where the clue form opens prefilled with the child and linked to the visit. */
export const clueAddress = (childId, visitId) => `#/clue/${encodeURIComponent(childId || '')}/${encodeURIComponent(visitId)}`;

/** Ask at once for the clue that `signs` found on visit `visitId` call for; 稍后 leaves it to the to-do. */
export async function askForClue(prompt, signs, childId, visitId) {
  const found = signs.map((s) => s.label).join('、');
  if (await confirmDialog('强制报告', `${prompt.message}发现：${found}。`, '立即报告线索', '稍后')) {
    location.hash = clueAddress(childId, visitId);
  }
}

/** Visits the phone knows to show signs of abuse with no clue filed from them. The server's to-do
 *  (`serverItems`, its clue_missing tasks, online) knows every synced visit; the phone itself knows
 *  only what it has not synced yet, since a clue leaves the phone once the server has it. Each is
 *  `{visit, signs, title}`, oldest first; `title` is the server's (it names the child), for a visit
 *  whose child the phone no longer holds (moved out of the worker's grids since). */
export function unreported(prompt, serverItems, userId) {
  const amended = store.amendedIds('visit');
  const reported = new Set(store.counted('clue', store.all('clue')).map((c) => c.source_visit_id).filter(Boolean));
  const chainReported = (visit) => {
    for (let v = visit, seen = new Set(); v && !seen.has(v.id); v = store.one('visit', v.amends)) {
      if (reported.has(v.id)) return true;
      seen.add(v.id);
    }
    return false;
  };
  const found = new Map();
  for (const t of serverItems) {
    const visit = store.one('visit', t.entity_id) || { id: t.entity_id, child_id: t.detail.child_id, visited_at: t.detail.visited_at };
    const signs = t.detail.signs.map((key) => prompt.factors.find((f) => f.key === key) || { key, label: key });
    found.set(visit.id, { visit, signs, title: t.title });
  }
  for (const visit of store.counted('visit', store.all('visit'))) {
    if (!visit._pending || (visit.worker_id && visit.worker_id !== userId)) continue;
    const signs = signsOf(prompt, visit.answers, store.one('child', visit.child_id));
    if (signs.length) found.set(visit.id, { visit, signs });
  }
  return [...found.values()].filter(({ visit }) => !amended.has(visit.id) && !chainReported(visit))
    .sort((a, b) => byTime('visited_at')(a.visit, b.visit));
}
