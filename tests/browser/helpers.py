"""What the browser tests do on the phone: log in, unlock, wait for sync, read raw IndexedDB."""
import json
import re
import time

from playwright.sync_api import Page, expect

from server.models import new_id

from .. import factories

TIMEOUT = 20_000


def login(page: Page, base: str, username: str, password: str = factories.PASSWORD) -> None:
    """First login (online), then wait for the first sync to finish."""
    page.goto(base + "/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    wait_synced(page)


def phone(browser, base: str, username: str, installed: bool = True):
    """A new phone context logged in as `username` (and, `installed`, its app stored for offline
    use); return (context, page)."""
    from .conftest import PHONE

    context = browser.new_context(**PHONE)
    page = context.new_page()
    login(page, base, username)
    if installed:
        wait_installed(page)
    return context, page


def unlock(page: Page, password: str = factories.PASSWORD) -> None:
    """Unlock the local store (works offline)."""
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="解锁").click()
    expect(page.locator("#nav")).to_be_visible(timeout=TIMEOUT)


def wait_until(page: Page, predicate: str, arg=None, timeout: int = TIMEOUT) -> None:
    """Wait until `predicate`, a page function that returns a promise, resolves to something true.
    (wait_for_function takes the promise for true and returns at once: it cannot wait on IndexedDB.)"""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} ms: {predicate}")
        page.wait_for_timeout(50)


def wait_synced(page: Page, unsynced: int = 0) -> None:
    """Wait until a sync has finished and `unsynced` entries are left."""
    # 立即同步 stays disabled until the sync it asked for has ended: the counts below may already
    # hold before that sync has even begun (one that only pulls).
    page.wait_for_function("() => !document.querySelector('[data-testid=sync-now]:disabled')", timeout=TIMEOUT)
    expect(page.get_by_test_id("unsynced")).to_have_text(f"待同步 {unsynced}", timeout=TIMEOUT)
    expect(page.get_by_test_id("last-sync")).not_to_have_text("上次同步 从未", timeout=TIMEOUT)
    expect(page.locator("#status .busy")).to_have_count(0, timeout=TIMEOUT)


def wait_installed(page: Page) -> None:
    """Wait until the service worker has precached the shell and controls the page."""
    # 30 s: precaching the shell takes long on a loaded 2-core CI machine
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)


def go_offline(context, installed: bool = True) -> None:
    """No network at all: the context is offline and every /api request fails. A phone goes out of
    coverage with the app stored on it (`installed`): a page that lost the network before its
    service worker took it over could only open the screens it had already fetched. A page not
    opened yet (about:blank) opens offline, from what the profile stored."""
    if installed:
        for page in context.pages:
            if page.url.startswith("http"):
                wait_installed(page)
    context.set_offline(True)
    context.route("**/api/**", lambda route: route.abort("internetdisconnected"))


def go_online(context) -> None:
    """Back in coverage."""
    context.unroute("**/api/**")
    context.set_offline(False)


def server_session_end(context, base: str, seconds: int = 6) -> tuple[int, str]:
    """Poll GET /api/children with the cookie the phone's browser holds until it no longer opens the
    API, for up to `seconds`; return the last answer's (status, body)."""
    answer = context.request.get(base + "/api/children")
    for _ in range(seconds * 2):
        if answer.status == 401:
            break
        context.pages[0].wait_for_timeout(500)
        answer = context.request.get(base + "/api/children")
    return answer.status, answer.text()


def sync_now(page: Page) -> None:
    """Open the sync screen and press the button."""
    page.locator("#nav").get_by_role("link", name="同步").click()
    page.get_by_test_id("sync-now").click()


RAW_DUMP = """async () => {
  const hex = (b) => Array.from(new Uint8Array(b.buffer || b),
    (x) => x.toString(16).padStart(2, '0')).join('');
  const plain = (v) => JSON.stringify(v,
    (k, x) => (x instanceof ArrayBuffer || ArrayBuffer.isView(x)) ? hex(x) : x);
  const names = (await indexedDB.databases()).map((d) => d.name);
  const out = {databases: names, stores: {}};
  for (const name of names) {
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
    });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((ok) => {
        const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result);
      });
      out.stores[`${name}/${store}`] = rows.map(plain);
    }
    db.close();
  }
  return out;
}"""


def raw_indexeddb(page: Page) -> dict:
    """Every row of every IndexedDB store of the origin, binary as hex, without the app's key."""
    return page.evaluate(RAW_DUMP)


SHOTS = __import__("pathlib").Path(__file__).parent / "screenshots"


def screenshot(page: Page, name: str) -> None:
    """Save a 360×740 screenshot of the current screen under tests/browser/screenshots/."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


AXE = __import__("pathlib").Path(__file__).parent / "vendor" / "axe.min.js"


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the current screen; return its serious and critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def check_screen(page: Page, name: str) -> list[dict]:
    """Screenshot the screen, assert no stray null, undefined, NaN or [object …] in the text of the
    view, and return its serious accessibility violations, labelled."""
    page.wait_for_timeout(150)
    screenshot(page, name)
    view = page.locator("#view")
    text = view.inner_text() if view.count() else ""
    assert not re.search(r"\bnull\b|undefined|NaN|\[object", text), (name, text)
    return [{**v, "screen": name} for v in axe_violations(page)]


NAV_LABELS = """() => [...document.querySelectorAll('#nav a')].map((a) => {
  const text = document.createRange();
  text.selectNodeContents(a);
  const lines = new Set([...text.getClientRects()].map((r) => Math.round(r.top))).size;
  return [a.textContent, a.getAttribute('aria-label'), lines];
})"""


def clear_of_fixed_bars(page: Page, locator) -> bool:
    """Scroll to the end of the page; say whether `locator` then lies clear of the report button,
    the toast and the bottom bar (nothing fixed covers any part of it)."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    box = locator.bounding_box()
    for fixed in ("#clue-fab", "#nav"):
        other = page.locator(fixed).bounding_box()
        if other and not (box["y"] + box["height"] <= other["y"] or other["y"] + other["height"] <= box["y"]
                          or box["x"] + box["width"] <= other["x"] or other["x"] + other["width"] <= box["x"]):
            return False
    return True


def nav_labels(page: Page) -> list[tuple[str, str | None, int]]:
    """Each tab of the bottom bar: its visible label, its aria-label, and how many lines the label takes."""
    return [tuple(label) for label in page.evaluate(NAV_LABELS)]


OUTBOX = """async () => (await import('/js/db.js')).outboxByState('pending')
  .then((ops) => ops.map(({ entity, action, id, base_version, data }) =>
    ({ entity, action, id, base_version, data })))"""


def pending_ops(page: Page) -> list[dict]:
    """The phone's outbox ops waiting to be pushed, as they will be sent."""
    return page.evaluate(OUTBOX)


# The phone's encryption waits while `window.held` is a pending promise: a save on a slow phone.
# `window.sealed` says where each value it was given to seal since `hold_saves` goes, in order:
# 'outbox:<op id>' an op, 'records:<entity>:<id>' a record.
HOLD_SAVES = """(() => {
  const encrypt = crypto.subtle.encrypt.bind(crypto.subtle);
  const where = new TextDecoder();
  window.sealed = [];
  crypto.subtle.encrypt = async (params, ...rest) => {
    window.sealed.push(where.decode(params.additionalData));
    await window.held;
    return encrypt(params, ...rest);
  };
})()"""


def hold_saves(page: Page) -> None:
    """Have the phone's saves wait (HOLD_SAVES installed) until `release_saves(page)`."""
    page.evaluate("() => { window.sealed = []; window.held = new Promise((go) => { window.release = go; }); }")


def release_saves(page: Page) -> None:
    page.evaluate("window.release()")


def sealed_ops(page: Page) -> int:
    """How many ops the phone has sealed to queue since `hold_saves`."""
    return sum(1 for where in page.evaluate("window.sealed") if where.startswith("outbox:"))


# A sync, as the schedule or going online starts one; resolves once the reload of the store at its
# end has been dealt with: a form on the screen held it (the test app.js makes), or it was redrawn.
SYNC_IN_BACKGROUND = """async () => {
  const view = document.getElementById('view');
  let drawn;
  const redrawn = new Promise((done) => { drawn = done; });
  const watch = new MutationObserver(() => drawn());
  watch.observe(view, { childList: true });
  await (await import('/js/sync.js')).sync();
  if (!view.querySelector('form[data-dirty], form[data-saving]')) await redrawn;
  watch.disconnect();
}"""


def sync_in_background(page: Page) -> None:
    """Sync without leaving the screen, and wait until what the sync's reload does to it is done."""
    page.evaluate(SYNC_IN_BACKGROUND)


def save_correction(page: Page, reason: str, back_to: str) -> list[dict]:
    """Give a correction its reason and save it (offline or not); return the one op it queued."""
    page.get_by_label("更正原因（必填）").fill(reason)
    page.get_by_role("button", name="保存更正").click()
    expect(page.locator("#toast")).to_have_text("更正已保存在本机，待同步")
    # Exact: the correction form's heading (更正走访 欧阳明月) names what it goes back to.
    expect(page.get_by_role("heading", name=back_to, exact=True)).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 1")
    ops = pending_ops(page)
    assert len(ops) == 1, ops
    return ops


def refuse_in_push(page: Page, entity: str, field: str, value: str | None = None) -> None:
    """Have the server refuse, for real, the pushed ops on `entity` whose data's `field` is `value`
    (any, with None): each is sent with `field` naming a record the server does not know."""
    def send(route):
        body = route.request.post_data_json
        for op in body["ops"]:
            if op["entity"] == entity and (value is None or op["data"].get(field) == value):
                op["data"][field] = new_id()
        route.continue_(post_data=json.dumps(body))
    page.route("**/api/sync/push", lambda route: send(route))


def sync_refused(page: Page, context, entity: str, field: str):
    """Back online, sync with the server refusing the phone's ops on `entity` (refuse_in_push); return
    the one refused op the sync screen then lists."""
    refuse_in_push(page, entity, field)
    go_online(context)
    sync_now(page)
    wait_synced(page, unsynced=1)
    rejected = page.get_by_test_id("rejected-op")
    expect(rejected).to_have_count(1)
    return rejected
