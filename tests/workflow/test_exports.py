"""XLSX and CSV exports read back: title, frozen header, widths, masked values, watermark, audit."""
import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.crypto import get_cipher
from server.extensions import db
from server.models import AuditEvent, Village
from server.services.audit import verify_chain

from ..routes.helpers import assert_error
from . import ledger_town
from .helpers import today

HEADERS = ["序号", "姓名", "性别", "年龄", "类别", "监护人", "联系电话", "网格", "风险等级", "帮扶责任人",
           "最近走访", "本年走访次数", "下次走访", "状态"]


@pytest.fixture
def facts(app, town):
    """The ledger fixture's facts."""
    with app.app_context():
        return ledger_town.build(town)


def _exports(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.export")
                                       .order_by(AuditEvent.seq)))


def test_xlsx_export_reads_back_masked_with_title_header_and_watermark(app, facts, town, login):
    response = login("head_a").get("/api/ledgers/children?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == f"测试A村重点未成年人台账（截至 {today().isoformat()}）"
    assert "A1:N1" in {str(r) for r in sheet.merged_cells.ranges}
    assert rows[1] == HEADERS
    assert sheet.freeze_panes == "A3"
    assert (sheet.column_dimensions["B"].width, sheet.column_dimensions["G"].width) == (10, 14)
    assert [(r[0], r[1], r[5], r[6], r[8]) for r in rows[2:4]] == [
        (1, "欧**月", "监****山（祖父）", "139****0000", "高"),
        (2, "司**雨", "监****山（祖父）", "139****0001", "低")]
    footer = rows[4][0]
    assert footer.startswith("导出人：测试head_a（head_a）  导出时间：")
    assert footer.endswith("内部资料，严禁外传")
    assert len(rows) == 5
    assert "欧阳明月" not in str(rows) and "13900000000" not in str(rows)
    events = _exports(app)
    assert [(e.actor_id, e.entity_id, e.detail) for e in events] == [
        (town.users["head_a"], "children",
         {"format": "xlsx", "rows": 2, "unmasked": False, "filters": {}, "searched": False})]
    with app.app_context():
        assert verify_chain()["ok"]


def test_csv_export_and_the_unmasked_export_of_the_town_admin(app, facts, town, login):
    head = login("head_a").get("/api/ledgers/plans?format=csv&q=欧阳")
    lines = list(csv.reader(io.StringIO(head.data.decode("utf-8-sig"))))
    assert lines[0] == [f"测试A村一对一帮扶台账（截至 {today().isoformat()}）"]
    assert lines[2][1] == "欧**月" and lines[3][0].startswith("导出人：测试head_a")
    admin = login("admin")
    url = "/api/ledgers/children?format=csv&unmasked=1"
    assert_error(admin.get(url), 422, "validation_error", field_names={"reason"})
    assert_error(login("head_a").get(url + "&reason=村里核对名单"), 403, "unmasked_not_allowed")
    full = list(csv.reader(io.StringIO(admin.get(url + "&reason=县局核查名单").data.decode("utf-8-sig"))))
    assert [(r[1], r[6]) for r in full[2:5]] == [
        ("欧阳明月", "13900000000"), ("司马小雨", "13900000001"), ("诸葛晓东", "13900000002")]
    assert "未脱敏" in full[5][0]
    events = _exports(app)
    assert [(e.entity_id, e.detail["rows"], e.detail["unmasked"], e.detail["searched"]) for e in events] == [
        ("plans", 1, False, True), ("children", 3, True, False)]
    with app.app_context():
        reason = get_cipher().decrypt(bytes(events[1].reason_ct), "audit_event", "reason", events[1].id)
        assert reason.decode() == "县局核查名单"
        assert events[0].reason_ct is None


def test_a_csv_title_and_watermark_are_never_read_as_formulas(app, facts, town, login):
    """The title begins with the village's name, which may begin with = + - @: a spreadsheet would
    run it as a formula."""
    with app.app_context():
        db.session.get(Village, town.villages["a"]).name = "=HYPERLINK(\"http://x\",\"A村\")"
        db.session.commit()
    lines = list(csv.reader(io.StringIO(login("head_a").get("/api/ledgers/plans?format=csv").data
                                        .decode("utf-8-sig"))))
    assert lines[0] == [f"'=HYPERLINK(\"http://x\",\"A村\")一对一帮扶台账（截至 {today().isoformat()}）"]


def test_role_matrix_of_exports(app, facts, town, login):
    assert_error(login("worker_a").get("/api/ledgers/children?format=xlsx"), 403, "export_not_allowed")
    assert_error(login("worker_a").get("/api/ledgers/plans?format=csv"), 403, "export_not_allowed")
    assert_error(login("inspector").get("/api/ledgers/children?format=xlsx"), 404, "not_found")
    assert_error(login("inspector").get("/api/ledgers/venues?format=csv"), 403, "export_not_allowed")
    assert_error(login("police").get("/api/ledgers/plans?format=csv"), 404, "not_found")
    assert_error(login("head_a").get("/api/ledgers/children?unmasked=1"), 422, "validation_error",
                 field_names={"unmasked"})
    assert login("head_a").get("/api/ledgers/venues?format=xlsx").status_code == 200
    assert [e.entity_id for e in _exports(app)] == ["venues"]
