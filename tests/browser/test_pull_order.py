"""A pull page never overwrites a newer copy of a record that an online action's answer stored on
the phone first (a clue the station just received), and still takes a newer one."""
from . import helpers
from .conftest import PHONE

STORE = """async ([id, stored, pulled]) => {
  const db = await import('/js/db.js');
  const read = async () => (await db.allRecords()).find((r) => r.entity === 'clue' && r.id === id);
  const before = await read();
  const cursor = await db.kvGet('cursor');
  await db.putServerRecord('clue', id, stored, { ...before.data, status: 'received' });
  await db.applyPull([{ entity: 'clue', id, version: before.version, action: 'upsert',
                        data: { ...before.data, status: 'new' } }], cursor);
  const kept = await read();
  await db.applyPull([{ entity: 'clue', id, version: pulled, action: 'upsert',
                        data: { ...before.data, status: 'closed' } }], cursor);
  const taken = await read();
  return [before.version, kept.version, kept.data.status, taken.version, taken.data.status];
}"""


def test_an_older_pull_page_leaves_a_newer_record_and_a_newer_one_replaces_it(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "police")
    clue = live_server.ids.clues["a1"]
    assert page.evaluate(STORE, [clue, 3, 4]) == [1, 3, "received", 4, "closed"]
    context.close()
