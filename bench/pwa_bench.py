"""PWA bench: shell size, time to open offline, first sync of a 300-child grid on the phone.

    .venv/bin/python -m bench.pwa_bench [--runs 3] [--cpu-throttle 4]

Each run builds a fresh SQLite database with one grid of 300 households, 300 children and
3,000 visits (10 a child), serves it with werkzeug's threaded server on a free 127.0.0.1 port,
and drives headless /usr/bin/chromium (360×740) through playwright:

- first sync: from pressing 登录 until the status bar shows the sync done — the online login,
  PBKDF2 (310,000 iterations) of the local key, the pull of all 3,600 records in pages of 500,
  and the AES-GCM encryption and IndexedDB write of each page with its cursor;
- offline open: with the network cut (context offline, /api aborted), reload until the unlock
  screen shows (the shell from the service worker's cache), then unlock until 今日待办 is drawn
  (PBKDF2 again, decrypting all 3,600 records);
- shell: the precached files, gzip -9 each.

Runs once unthrottled and once with Chromium's CPU throttling (a cheap phone is several times
slower than a desktop core). Prints the medians. Not part of the pytest suite.
"""
import argparse
import base64
import logging
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from werkzeug.serving import make_server

from server import create_app
from server.extensions import db
from server.models import Child, Grid, Household, Town, User, Village, Visit, new_id
from server.services import passwords
from tests.browser.shell import compressed_size

PASSWORD = "Bench-pass-2024-ok"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def build_app(path: Path):
    from flask_migrate import upgrade

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SKIP_KEY_CHECK": True,
                              "HULEI_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()})
    with app.app_context():
        upgrade()
        seed()
    return app


def seed(children: int = 300) -> None:
    """One grid of `children` households and children, and its worker."""
    town = Town(id=new_id(), name="基准镇")
    village = Village(id=new_id(), town_id=town.id, name="基准村")
    grid = Grid(id=new_id(), village_id=village.id, name="基准网格")
    db.session.add_all([town, village, grid])
    db.session.flush()
    user = User(id=new_id(), username="worker_bench", role="grid_worker", town_id=town.id,
                village_id=village.id, password_hash=passwords.hash_password(PASSWORD))
    user.display_name = "基准网格员"
    user.grids = [grid]
    db.session.add(user)
    kids = []
    for n in range(children):
        household = Household(id=new_id(), grid_id=grid.id, village_id=village.id, family_type="left_behind")
        household.address = f"基准村{n // 20}组{n}号"
        household.location = {"lat": 29.1 + n * 1e-4, "lon": 113.2}
        household.guardians = [{"name": f"监护人{n}", "relation": "祖父", "phone": f"139{n:08d}"}]
        child = Child(id=new_id(), household_id=household.id, grid_id=grid.id, village_id=village.id,
                      sex="F" if n % 2 else "M", categories=["left_behind"], birth_year=2015)
        child.name = f"儿童{n:03d}"
        child.birth_date = date(2015, 1, 1)
        child.notes = "父母在外务工，由祖父母照料"
        db.session.add(household)
        kids.append(child)
    db.session.flush()
    db.session.add_all(kids)
    db.session.commit()


def add_visits_logged(app, visits_each: int = 10) -> None:
    """Add the visits through the ORM so the change log (and so the pull) sees them."""
    with app.app_context():
        grid = db.session.query(Grid).one()
        user = db.session.query(User).filter_by(username="worker_bench").one()
        now = datetime.now(UTC)
        for i, child in enumerate(db.session.query(Child).all()):
            for k in range(visits_each):
                visit = Visit(id=new_id(), child_id=child.id, household_id=child.household_id,
                              grid_id=grid.id, village_id=grid.village_id, worker_id=user.id,
                              device_id="bench", visited_at=now - timedelta(days=30 * (k + 1)),
                              received_at=now, counted_at=now - timedelta(days=30 * (k + 1)),
                              template_version=1, follow_up=False, flags=[],
                              review_status="none", distance_m=3.0)
                visit.location = {"lat": 29.1 + i * 1e-4, "lon": 113.2, "accuracy_m": 12}
                visit.answers = {"in_school": True, "guardian_present": k % 2 == 0}
                visit.notes = f"第{k + 1}次走访，孩子情况稳定"
                db.session.add(visit)
            db.session.flush()
        db.session.commit()


def one_run(pw, url: str, throttle: float) -> dict:
    from playwright.sync_api import expect

    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    try:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        if throttle > 1:
            context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        page.goto(url + "/")
        page.get_by_label("用户名").fill("worker_bench")
        page.get_by_label("密码").fill(PASSWORD)
        start = time.perf_counter()
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_test_id("last-sync")).not_to_have_text("上次同步 从未", timeout=300_000)
        first_sync = time.perf_counter() - start
        records = page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open('hulei');
          r.onsuccess = () => { const q = r.result.transaction('records').objectStore('records').count();
          q.onsuccess = () => { ok(q.result); r.result.close(); }; }; })""")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        for _ in range(100):
            if page.evaluate("navigator.serviceWorker.controller !== null"):
                break
            page.wait_for_timeout(100)
        context.set_offline(True)
        context.route("**/api/**", lambda route: route.abort("internetdisconnected"))
        start = time.perf_counter()
        page.reload()
        expect(page.get_by_role("button", name="解锁")).to_be_visible(timeout=60_000)
        shell_open = time.perf_counter() - start
        page.get_by_label("密码").fill(PASSWORD)
        start = time.perf_counter()
        page.get_by_role("button", name="解锁").click()
        expect(page.get_by_role("heading", name="今日待办")).to_be_visible(timeout=120_000)
        unlock = time.perf_counter() - start
        context.close()
        return {"first_sync_s": first_sync, "records": records, "offline_shell_s": shell_open,
                "offline_unlock_s": unlock}
    finally:
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu-throttle", type=float, default=4.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from playwright.sync_api import sync_playwright

    raw, packed = compressed_size()
    print(f"shell: {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzip -9 (budget 150 KB)")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        app = build_app(Path(tmp) / "bench.db")
        add_visits_logged(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            for throttle in (1.0, args.cpu_throttle):
                runs = [one_run(pw, url, throttle) for _ in range(args.runs)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(f"CPU ×{throttle:g} (median of {args.runs}): records on phone {med['records']:.0f}; "
                      f"first sync {med['first_sync_s']:.2f} s; offline shell {med['offline_shell_s']:.2f} s; "
                      f"offline unlock to 今日待办 {med['offline_unlock_s']:.2f} s")
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)


if __name__ == "__main__":
    main()
