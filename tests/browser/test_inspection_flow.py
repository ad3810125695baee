"""The inspector's round: today's operation and the nearest venue first, an inspection with a photo
recorded offline and synced once, then the re-inspection that closes one of its violations."""
import json
import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import AppliedOp, Attachment, Inspection, JointOperation, Venue, new_id

from .. import factories
from ..images import (
    PHONE_MAKE,
    exif_tiff,
    jpeg,
    jpeg_frame_size,
    jpeg_from_phone,
    picture_size,
    png,
    png_from_phone,
    webp_from_phone,
)
from . import helpers
from .conftest import PHONE

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTES = {"verify_identity": "前台未查验身份证件", "patrol_visitors": "夜间无访客登记"}


def prepare_town(app) -> str:
    """Place the venues (b about 110 m from the phone, a about 10 km) and plan today's operation."""
    with app.app_context():
        venues = {v.name: v for v in db.session.scalars(select(Venue))}
        venues["测试a宾馆"].lat, venues["测试a宾馆"].lon = 29.2, 113.2
        venues["测试b宾馆"].lat, venues["测试b宾馆"].lon = 29.111, 113.2
        operation = JointOperation(id=new_id(), date=datetime.now(SHANGHAI).date(), lead_unit="测试派出所",
                                   units=["测试派出所", "测试市场监管所"], member_ids=[])
        db.session.add(operation)
        db.session.commit()
        return operation.id


def violations(app) -> list[dict]:
    """GET /api/violations as the town admin."""
    api = factories.ApiClient(app.test_client())
    api.login("admin")
    response = api.get("/api/violations")
    assert response.status_code == 200
    return response.get_json()["rows"]


def open_venues(page) -> None:
    page.locator("#nav").get_by_role("link", name="我的场所").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()


def offline_at_inspection(browser, live_server):
    """The inspector's phone, out of coverage, at a new inspection of 测试b宾馆 on the day of a joint
    operation: (context, page)."""
    prepare_town(live_server.app)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    open_venues(page)
    helpers.go_offline(context)
    page.get_by_role("link", name=re.compile("^测试b宾馆")).click()
    expect(page.get_by_role("heading", name="检查 测试b宾馆")).to_be_visible()
    expect(page.get_by_test_id("gps")).to_contain_text("精度 ±12 米")
    return context, page


def test_inspection_offline_with_photo_then_reinspection(browser, live_server):
    operation_id = prepare_town(live_server.app)
    photo = png(24, 16, seed=6)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    helpers.login(page, live_server.url, "inspector")

    open_venues(page)
    expect(page.get_by_test_id("today-operation")).to_contain_text("牵头单位：测试派出所")
    expect(page.get_by_test_id("today-operation")).to_contain_text("参加单位：测试市场监管所")
    expect(page.get_by_role("heading", name="场所（由近到远）")).to_be_visible()
    expect(page.locator("li.venue strong")).to_have_text(["测试b宾馆", "测试a宾馆"])
    expect(page.locator("li.venue .meta").first).to_contain_text("约 110 米")
    expect(page.locator("li.venue .meta").nth(1)).to_contain_text("约 10.0 公里")
    problems += helpers.check_screen(page, "12-venues-inspector")

    helpers.go_offline(context)
    page.get_by_role("link", name=re.compile("^测试b宾馆")).click()
    expect(page.get_by_role("heading", name="检查 测试b宾馆")).to_be_visible()
    expect(page.get_by_test_id("gps")).to_contain_text("精度 ±12 米")
    expect(page.get_by_label(re.compile("计入今日联合执法行动（牵头：测试派出所）"))).to_be_checked()
    items = page.locator(".check-item")
    for i, note in ((0, NOTES["verify_identity"]), (2, NOTES["patrol_visitors"])):
        items.nth(i).get_by_label("不合格").check()
        items.nth(i).get_by_label("问题说明").fill(note)
    items.nth(1).get_by_label("合格", exact=True).check()
    photo_input = page.get_by_test_id("photo-input")
    too_big = b"\x89PNG\r\n\x1a\n" + os.urandom(2 * 1024 * 1024 + 100)
    photo_input.set_input_files([{"name": "big.png", "mimeType": "image/png", "buffer": too_big}])
    expect(page.get_by_test_id("photo-error")).to_have_text(
        "照片超过 2 MB，且无法压缩。请重新拍摄，或选择较小的照片。")
    expect(page.locator(".thumbs img")).to_have_count(0)
    photo_input.set_input_files([{"name": "door.png", "mimeType": "image/png", "buffer": photo}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    expect(page.get_by_test_id("photo-error")).to_have_text("")
    page.get_by_label("检查情况").fill("夜查发现两项问题")
    problems += helpers.check_screen(page, "13-inspection-photo")
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")  # the inspection and its photo
    expect(page.locator("li.venue").first.get_by_test_id("open-violations")).to_have_text("待整改 2")

    raw = helpers.raw_indexeddb(page)
    assert len(raw["stores"]["hulei/photos"]) == 1 and len(raw["stores"]["hulei/outbox"]) == 1
    dump = str(raw)
    for secret in ("测试b宾馆", "测试派出所", "夜查发现两项问题", *NOTES.values()):
        assert secret not in dump
    assert photo.hex() not in dump and photo[-64:].hex() not in dump

    requests = []
    lost = []

    def lose_first_photo_answer(route):
        requests.append(("photo", route.request.headers.get("x-photo-id")))
        response = route.fetch()  # the server stores the photo...
        if not lost:
            lost.append(response.status)
            route.abort("connectionreset")  # ...but the phone never hears back: it keeps the photo
        else:
            route.fulfill(response=response)

    page.on("request", lambda r: requests.append(("push", None)) if r.url.endswith("/api/sync/push") else None)
    context.route("**/api/inspections/*/photos", lose_first_photo_answer)
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page)  # the retry after the lost answer uploads it again, same photo id
    context.unroute("**/api/inspections/*/photos")
    assert lost == [201]
    assert requests[0] == ("push", None)  # the photo waits for its inspection to sync
    photo_ids = {pid for kind, pid in requests if kind == "photo"}
    assert len([r for r in requests if r[0] == "photo"]) >= 2 and len(photo_ids) == 1

    with live_server.app.app_context():
        inspection = db.session.scalars(select(Inspection)).one()
        assert inspection.operation_id == operation_id and inspection.notes == "夜查发现两项问题"
        day = inspection.inspected_at.astimezone(SHANGHAI).date()
        assert [(r["item"], r["result"], r["deadline"]) for r in inspection.results] == [
            ("verify_identity", "fail", (day + timedelta(days=7)).isoformat()),
            ("ask_guardian", "pass", None),
            ("patrol_visitors", "fail", (day + timedelta(days=15)).isoformat())]
        assert inspection.answer_notes == NOTES
        stored = db.session.scalars(select(Attachment)).one()
        assert (stored.id, stored.entity_id, stored.size, stored.mime) == (
            photo_ids.pop(), inspection.id, len(photo), "image/png")
        assert stored.content == photo
        ciphertext = db.session.execute(text("SELECT content_ct FROM attachment")).scalar_one()
        assert photo not in bytes(ciphertext) and photo[-64:] not in bytes(ciphertext)
        first_id = inspection.id
    rows = violations(live_server.app)
    assert sorted((v["inspection_id"], v["item"], v["deadline"]) for v in rows) == [
        (first_id, "patrol_visitors", (day + timedelta(days=15)).isoformat()),
        (first_id, "verify_identity", (day + timedelta(days=7)).isoformat())]

    helpers.sync_now(page)
    helpers.wait_synced(page)
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
        assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == 1

    # The re-inspection: the open items come first, with their deadline and the earlier note.
    open_venues(page)
    expect(page.locator("li.venue").first.get_by_test_id("open-violations")).to_have_text("待整改 2")
    problems += helpers.check_screen(page, "15-venues-violations")
    page.get_by_role("link", name="复查 测试b宾馆").click()
    expect(page.get_by_role("heading", name="复查 测试b宾馆")).to_be_visible()
    expect(page.get_by_role("heading", name="待复查问题（2）")).to_be_visible()
    previous = page.get_by_test_id("previous")
    expect(previous).to_have_count(2)
    expect(previous.nth(0)).to_contain_text(f"原整改期限 {day + timedelta(days=7)}")
    expect(previous.nth(0)).to_contain_text(NOTES["verify_identity"])
    expect(previous.nth(1)).to_contain_text(NOTES["patrol_visitors"])
    problems += helpers.check_screen(page, "14-reinspection")
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    page.locator(".check-item").nth(1).get_by_label("不合格", exact=True).check()  # still not fixed
    page.get_by_role("button", name="保存复查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    expect(page.locator("li.venue").first.get_by_test_id("open-violations")).to_have_text("待整改 1")
    helpers.sync_now(page)
    helpers.wait_synced(page)
    open_venues(page)
    expect(page.locator("li.venue").first.get_by_test_id("open-violations")).to_have_text("待整改 1")
    context.close()

    with live_server.app.app_context():
        second = db.session.scalars(select(Inspection).where(Inspection.id != first_id)).one()
        assert second.reinspection_of == first_id
        assert [(r["item"], r["result"]) for r in second.results] == [
            ("verify_identity", "pass"), ("patrol_visitors", "fail")]
        second_id = second.id
    rows = violations(live_server.app)  # failed again: one violation, carried by the re-inspection
    assert [(v["inspection_id"], v["item"]) for v in rows] == [(second_id, "patrol_visitors")]
    assert problems == []


def fail_identity_pass_the_rest(page) -> None:
    """Answer the open checklist (identity failed with its note, the others passed) and save it."""
    items = page.locator(".check-item")
    items.nth(0).get_by_label("不合格").check()
    items.nth(0).get_by_label("问题说明").fill(NOTES["verify_identity"])
    for i in (1, 2):
        items.nth(i).get_by_label("合格", exact=True).check()
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()


def test_an_inspection_the_server_refuses_opens_no_violation_on_the_phone(browser, live_server):
    """Findings count only once the server holds them: a refused inspection stays on the phone,
    marked, for the inspector to fix or give up, and the venue is still uninspected and clear."""
    context, page = offline_at_inspection(browser, live_server)
    fail_identity_pass_the_rest(page)
    venue_b = page.locator("li.venue").first
    expect(venue_b.get_by_test_id("open-violations")).to_have_text("待整改 1")
    expect(venue_b.locator(".meta")).to_contain_text("（待同步）")

    helpers.sync_refused(page, context, "inspection", "venue_id")  # a venue the server does not know
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0
    assert violations(live_server.app) == []
    open_venues(page)
    expect(venue_b.locator("strong")).to_have_text("测试b宾馆")
    expect(venue_b.get_by_test_id("open-violations")).to_have_count(0)
    expect(venue_b.locator(".meta")).to_contain_text("尚未检查")
    page.evaluate("location.hash = '#/venue/' + document.querySelector('li.venue').dataset.venue")
    inspection = page.get_by_test_id("inspection")
    expect(inspection).to_have_count(1)
    expect(inspection.get_by_test_id("refused-tag")).to_have_text("被退回，待处理")
    expect(inspection).not_to_contain_text("待同步")
    context.close()


V1_DATABASE = """async () => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open('hulei', 1);
    r.onupgradeneeded = () => {
      const d = r.result;
      d.createObjectStore('meta', { keyPath: 'k' });
      d.createObjectStore('records', { keyPath: 'key' }).createIndex('entity', 'entity');
      const outbox = d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('state', 'state');
      outbox.createIndex('op_id', 'op_id', { unique: true });
      outbox.add({ op_id: 'op-before-upgrade', state: 'pending', iv: new Uint8Array(12),
                   ct: new Uint8Array(40) });
    };
    r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
  });
  db.close();
  return true;
}"""


def test_schema_upgrade_adds_photos_and_keeps_the_outbox(browser, live_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live_server.url + "/manifest.webmanifest")
    page.evaluate(V1_DATABASE)
    page.goto(live_server.url + "/")
    expect(page.get_by_label("用户名")).to_be_visible()
    raw = helpers.raw_indexeddb(page)
    assert raw["stores"]["hulei/photos"] == []
    assert [json.loads(row)["op_id"] for row in raw["stores"]["hulei/outbox"]] == ["op-before-upgrade"]
    assert page.evaluate("indexedDB.databases()") == [{"name": "hulei", "version": 2}]
    context.close()


def inspecting_venue_a(browser, live_server):
    """The inspector's phone on the inspection form of 测试a宾馆, its first item answered: (context, page)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    open_venues(page)
    expect(page.get_by_role("heading", name="场所（按名称）")).to_be_visible()  # no venue has a location
    page.get_by_role("link", name=re.compile("^测试a宾馆")).click()
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    return context, page


def test_large_photo_is_shrunk_and_a_refused_upload_stays_queued(browser, live_server):
    context, page = inspecting_venue_a(browser, live_server)
    big = png(1000, 800, seed=2)  # a camera-sized picture the phone re-encodes under 2 MB
    assert len(big) > 2 * 1024 * 1024
    page.get_by_test_id("photo-input").set_input_files(
        [{"name": "camera.png", "mimeType": "image/png", "buffer": big}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    expect(page.get_by_test_id("photo-error")).to_have_text("")

    refusals = []

    def refuse(route):
        refusals.append(route.request.headers.get("x-photo-id"))
        route.fulfill(status=415, json={"error": {"code": "not_an_image", "message": "只能上传图片"}})

    context.route("**/api/inspections/*/photos", refuse)
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()  # saved: the sync below sends it
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=1)
    assert len(refusals) == 1
    expect(page.get_by_role("alert").filter(has_text="有 1 条记录被服务器退回")).to_be_visible()
    item = page.get_by_test_id("attention").locator("li", has_text="照片未能上传：测试a宾馆")
    expect(item).to_contain_text("不是可识别的图片；照片仍保存在本机。")
    context.unroute("**/api/inspections/*/photos")
    item.get_by_role("button", name="重新上传").click()
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        stored = db.session.scalars(select(Attachment)).one()
        assert stored.id == refusals[0] and stored.mime == "image/jpeg"
        assert 0 < stored.size <= 2 * 1024 * 1024


def test_a_photo_answered_by_something_else_than_the_server_stays_queued(browser, live_server):
    """A proxy's maintenance page answered with 200 is no receipt: the photo stays on the phone,
    counted, and goes up at the next sync the server answers."""
    context, page = inspecting_venue_a(browser, live_server)
    photo = png(24, 16, seed=9)
    page.get_by_test_id("photo-input").set_input_files(
        [{"name": "door.png", "mimeType": "image/png", "buffer": photo}])
    expect(page.locator(".thumbs img")).to_have_count(1)
    answered = []

    def not_the_server(route):
        answered.append(route.request.headers.get("x-photo-id"))
        route.fulfill(status=200, content_type="text/html", body="<html>系统维护中</html>")

    context.route("**/api/inspections/*/photos", not_the_server)
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    helpers.sync_now(page)
    for _ in range(200):
        if answered:
            break
        page.wait_for_timeout(100)
    helpers.wait_synced(page, unsynced=1)
    assert len(answered) >= 1
    assert len(helpers.raw_indexeddb(page)["stores"]["hulei/photos"]) == 1
    with live_server.app.app_context():
        assert db.session.scalars(select(Attachment)).all() == []
    context.unroute("**/api/inspections/*/photos")
    page.get_by_test_id("sync-now").click()
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        stored = db.session.scalars(select(Attachment)).one()
        assert (stored.id, stored.size) == (answered[0], len(photo))


GIF = (b"GIF89a\x02\x00\x02\x00\x80\x00\x00\xff\x00\x00\x00\x00\xff!\xf9\x04\x00\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x02\x00\x02\x00\x00\x02\x02\x84\x51\x00;")


def test_a_photo_of_a_kind_the_server_refuses_is_made_a_jpeg_or_refused_when_picked(browser, live_server):
    """The server takes JPEG, PNG and WebP: a GIF picked is re-encoded as a JPEG on the phone; a file
    the phone cannot read (a HEIC it has no decoder for, here bytes of no image) is refused at once,
    where the inspector can take another, not after they have left the venue."""
    context, page = inspecting_venue_a(browser, live_server)
    not_an_image = b"\x00\x00\x00\x18ftypheic" * 8
    mime, content = _refused_then_stored(context, page, live_server, [(
        {"name": "IMG_0001.heic", "mimeType": "image/heic", "buffer": not_an_image},
        "无法识别这张照片的格式（服务器只接收 JPEG、PNG、WebP），请用相机重新拍摄。")],
        {"name": "shop.gif", "mimeType": "image/gif", "buffer": GIF})
    assert mime == "image/jpeg" and content[:3] == b"\xff\xd8\xff"


def test_a_photo_whose_inspection_the_phone_no_longer_holds_is_shown_and_can_be_given_up(browser, live_server):
    """A queued photo waits for its inspection to sync: one whose inspection has left the phone
    would wait unseen for ever, counted as unsynced. It is shown, with no retry, and given up."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    helpers.login(page, live_server.url, "inspector")
    page.evaluate("""async () => {
      const db = await import('/js/db.js');
      await db.saveLocal([], [], [{ id: 'photo-stranded-0001', inspection_id: 'an-inspection-no-longer-here',
                                    bytes: new Uint8Array([1, 2, 3]).buffer }]);
      await (await import('/js/store.js')).load();
    }""")
    page.locator("#nav").get_by_role("link", name="同步").click()
    item = page.get_by_test_id("photo-item")
    expect(item).to_contain_text("照片未能上传：检查记录")
    expect(item).to_contain_text("对应的检查记录已不在本机（可能已移出您的管辖范围），照片无法上传；照片仍保存在本机。")
    expect(item.get_by_role("button")).to_have_text(["放弃这张照片"])
    expect(page.get_by_test_id("sync-unsynced")).to_have_text("1")
    item.get_by_role("button", name="放弃这张照片").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("照片将从本机删除，无法找回。确定放弃吗？")
    dialog.get_by_role("button", name="放弃并删除").click()
    expect(page.locator("#toast")).to_have_text("已放弃这张照片")
    expect(page.get_by_test_id("photo-item")).to_have_count(0)
    expect(page.get_by_test_id("sync-unsynced")).to_have_text("0")
    assert helpers.raw_indexeddb(page)["stores"]["hulei/photos"] == []
    context.close()


def test_a_photo_cut_short_is_refused_when_picked_and_a_whole_one_goes_as_it_is(browser, live_server):
    """A JPEG or PNG whose file ends before its picture does (a camera that had not finished writing
    it) is refused when it is picked, as the server would refuse it after upload; a whole one is
    queued and uploaded byte for byte."""
    context, page = inspecting_venue_a(browser, live_server)
    whole = jpeg(64, 48)
    cut = "这张照片的文件不完整（可能未拍摄或保存完毕），请重新拍摄。"
    stored = _refused_then_stored(context, page, live_server, [
        ({"name": "cut.jpg", "mimeType": "image/jpeg", "buffer": whole[:-2]}, cut),
        ({"name": "cut.png", "mimeType": "image/png", "buffer": png(8, 8)[:-12]}, cut)],
        {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": whole})
    assert stored == ("image/jpeg", whole)


def test_a_camera_photo_turned_by_its_exif_goes_upright_and_without_it(browser, live_server):
    """A camera saves the picture as its sensor lay and says in Exif how to turn it (6: a quarter
    turn clockwise), with where, when and on which phone it was taken. The server drops Exif, so
    the phone draws the photo upright and sends none: it is stored standing, and nothing of the Exif
    ever leaves the phone."""
    context, page = inspecting_venue_a(browser, live_server)
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_buffer) if r.url.endswith("/photos") else None)
    taken = jpeg_from_phone(64, 48, orientation=6)
    mime, content = _refused_then_stored(context, page, live_server, [],
                                         {"name": "IMG_0002.jpg", "mimeType": "image/jpeg", "buffer": taken})
    assert mime == "image/jpeg" and jpeg_frame_size(content) == (48, 64)
    assert len(sent) == 1 and sent[0][:3] == b"\xff\xd8\xff"
    for image in (sent[0], content):
        assert b"Exif" not in image and PHONE_MAKE not in image and b"HULEI-TEST-COMMENT" not in image


@pytest.mark.parametrize("name, taken, drawn", [
    # Chromium turns a PNG by the orientation in its eXIf chunk, as it turns a JPEG by its Exif...
    ("IMG_0004.png", png_from_phone(64, 48, orientation=6), (48, 64)),
    # ...and draws a WebP as it lies, the orientation in its EXIF chunk ignored.
    ("IMG_0005.webp", webp_from_phone(64, 48, orientation=6), (64, 48)),
])
def test_a_png_or_webp_carrying_exif_is_stored_as_the_phone_draws_it(browser, live_server, name, taken, drawn):
    """A PNG or WebP carries Exif in a chunk of its own, orientation and GPS position with it. The
    server drops it, so the phone redraws such a photo as it draws it and sends that: a PNG sent as
    it is would show upright on the phone and be stored sideways."""
    context, page = inspecting_venue_a(browser, live_server)
    shown = page.evaluate("async (bytes) => { const blob = new Blob([new Uint8Array(bytes)]);"
                          " const b = await createImageBitmap(blob, { imageOrientation: 'from-image' });"
                          " return [b.width, b.height]; }", list(taken))
    assert tuple(shown) == drawn
    kind = name.rsplit(".", 1)[1]
    mime, content = _refused_then_stored(context, page, live_server, [],
                                         {"name": name, "mimeType": f"image/{kind}", "buffer": taken})
    assert (mime, picture_size(content)) == ("image/jpeg", drawn)
    assert exif_tiff(6) not in content and PHONE_MAKE not in content


@pytest.mark.parametrize("phone, upright", [
    # Before 2023 a browser refused the option 'from-image' with a TypeError; its default followed Exif.
    ("if (options && options.imageOrientation) throw new TypeError('unknown enum value'); return real(file);",
     True),
    # One that cannot redraw the photo at all sends it as it is; the server still strips it.
    ("return Promise.reject(new DOMException('cannot decode', 'InvalidStateError'));", False),
])
def test_a_phone_that_cannot_turn_a_photo_still_sends_it_and_no_exif_is_stored(browser, live_server, phone,
                                                                              upright):
    context, page = inspecting_venue_a(browser, live_server)
    page.evaluate("(body) => { const real = window.createImageBitmap.bind(window); window.createImageBitmap"
                  " = new Function('real', 'file', 'options', body).bind(null, real); }", phone)
    taken = jpeg_from_phone(64, 48, orientation=6)
    mime, content = _refused_then_stored(context, page, live_server, [],
                                         {"name": "IMG_0003.jpg", "mimeType": "image/jpeg", "buffer": taken})
    assert (mime, jpeg_frame_size(content)) == ("image/jpeg", (48, 64) if upright else (64, 48))
    assert b"Exif" not in content and PHONE_MAKE not in content


def _refused_then_stored(context, page, live_server, refused: list[tuple[dict, str]],
                         taken: dict) -> tuple[str, bytes]:
    """Pick each refused file (its message shown, no photo kept), then `taken`; save the inspection,
    sync, close the phone; return the type and bytes of the one photo the server stored."""
    picker = page.get_by_test_id("photo-input")
    for file, message in refused:
        picker.set_input_files([file])
        expect(page.get_by_test_id("photo-error")).to_have_text(message)
        expect(page.locator(".thumbs img")).to_have_count(0)
    picker.set_input_files([taken])
    expect(page.locator(".thumbs img")).to_have_count(1)
    expect(page.get_by_test_id("photo-error")).to_have_text("")
    page.get_by_role("button", name="保存检查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    helpers.sync_now(page)
    helpers.wait_synced(page)
    context.close()
    with live_server.app.app_context():
        stored = db.session.scalars(select(Attachment)).one()
        return stored.mime, stored.content


def test_a_reinspection_refused_with_the_inspection_it_rechecks_goes_again_once_that_one_does(
        browser, live_server):
    """A re-inspection made offline of an inspection made offline is refused when that inspection
    is: the server does not hold what it re-checks. Once the inspection goes (sent again), the
    re-inspection goes on its own, as a visit refused with its child's registration does; it waited
    for the inspector to press 重新提交 on it too."""
    context, page = offline_at_inspection(browser, live_server)
    fail_identity_pass_the_rest(page)
    page.get_by_role("link", name="复查 测试b宾馆").click()
    expect(page.get_by_role("heading", name="复查 测试b宾馆")).to_be_visible()
    page.locator(".check-item").nth(0).get_by_label("合格", exact=True).check()
    page.get_by_role("button", name="保存复查").click()
    expect(page.get_by_role("heading", name="我的场所")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_have_text("待同步 2")

    refused = []

    def refuse_the_first(route):  # once: the inspection names a venue the server does not know
        body = route.request.post_data_json
        for op in body["ops"]:
            if op["entity"] == "inspection" and not op["data"].get("reinspection_of") and not refused:
                refused.append(op["id"])
                op["data"]["venue_id"] = new_id()
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/sync/push", refuse_the_first)
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, unsynced=2)
    rejected = page.get_by_test_id("rejected-op")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(1)).to_contain_text("被复查的检查记录不存在")
    expect(rejected.nth(1).get_by_test_id("waits-on")).to_have_text(
        "它复查的检查记录还没有被服务器接收（也在此列表中，请先处理那一条）；那条检查同步成功后，这条会自动重新提交。")
    page.unroute("**/api/sync/push")

    rejected.nth(0).get_by_role("button", name="重新提交").click()
    helpers.wait_synced(page)
    expect(page.get_by_text("没有需要处理的记录。")).to_be_visible()
    context.close()
    with live_server.app.app_context():
        rows = {i.id: i.reinspection_of for i in db.session.scalars(select(Inspection))}
        db.session.remove()
    assert len(rows) == 2 and rows[refused[0]] is None
    assert [of for of in rows.values() if of] == refused
