"""同步 › 需要处理 says why the server refused a record in words: the field in Chinese, never its API key."""
import re

from playwright.sync_api import expect

from server.extensions import db
from server.models import Child, utcnow

from . import helpers
from .test_offline import record_visit
from .test_register import offline_worker, register_unchecked
from .test_register_checks import GOOD, wrong_check

API_KEY = re.compile(r"[A-Za-z_]+(\.\d+)?(\.[A-Za-z_]+)?：")


def test_a_refused_record_names_the_field_in_chinese(browser, live_server):
    ids = live_server.ids
    context, page = offline_worker(browser, live_server)
    record_visit(page, "欧阳明月", "孩子在家")
    register_unchecked(page, "王小草", id_number=wrong_check(GOOD[0]), phone="1380000000")
    with live_server.app.app_context():  # deleted by mistake while the phone was offline
        db.session.get(Child, ids.children["a1"]).deleted_at = utcnow()
        db.session.commit()
    helpers.go_online(context)
    helpers.sync_now(page)
    helpers.wait_synced(page, 3)
    items = page.get_by_test_id("rejected-op")
    expect(items).to_have_count(3)
    reasons = {item.locator("strong").inner_text().split("「")[0]: item.locator(".meta").all_inner_texts()
               for item in items.all()}
    assert reasons == {"被退回：走访": ["儿童：儿童不存在或不在您的管辖范围内"],
                       "被退回：家庭": ["监护人电话：电话号码格式不正确"],
                       "被退回：儿童": ["身份证号：身份证号码校验位不正确"]}
    assert not API_KEY.search(page.get_by_test_id("attention").inner_text())
    context.close()
