"""A reason is 4 to 500 characters besides blanks (`written_reason`), on every path that asks one:
a reveal and a risk override (the `Reason` field) and an unmasked export (checked by the export
service, as only an unmasked export needs one)."""
import pytest

from server.schemas.common import written_reason

from .helpers import assert_error

TOO_LONG = "核" * 501
UNWRITTEN = ("    ", "核对名", " 核对名 ", "")
REFUSED = (*UNWRITTEN, TOO_LONG)
WRITTEN = "核对名单"


@pytest.mark.parametrize("reason, written", [
    ("    ", False), ("核对名", False), ("\t核对名\n", False), ("", False), (None, False),
    ("核对名单", True), (" 核对名单 ", True), ("核" * 500, True), ("核" * 501, False),
])
def test_a_reason_is_4_to_500_characters_besides_blanks(reason, written):
    assert written_reason(reason) is written


# (user, action, body besides the reason, its refusal, what the written reason answers)
REASON_FIELDS = {
    "reveal": ("admin", "reveal", {"field": "name"}, "请写明查看理由（4 到 500 个字符）",
               lambda body: body == {"value": "欧阳明月"}),
    "risk-override": ("head_a", "risk-override", {"level": "high"}, "请写明理由（4 到 500 个字符）",
                      lambda body: (body["risk_override"], body["risk_override_reason"]) == ("high", WRITTEN)),
}


@pytest.mark.parametrize("path", REASON_FIELDS)
def test_a_reveal_and_a_risk_override_need_a_written_reason(town, login, path):
    username, action, body, refusal, answered = REASON_FIELDS[path]
    api, url = login(username), f"/api/children/{town.children['a1']}/{action}"
    for reason in REFUSED:
        assert_error(api.post(url, json={**body, "reason": reason}), 422, "validation_error",
                     fields={"reason": [refusal]})
    assert answered(api.post(url, json={**body, "reason": WRITTEN}).get_json())


def test_an_unmasked_export_needs_a_written_reason(town, login):
    admin = login("admin")
    query = {"format": "csv", "unmasked": "1"}
    assert_error(admin.get("/api/ledgers/children", query_string=query), 422, "validation_error",
                 fields={"reason": ["导出未脱敏台账须写明理由（4 到 500 个字符）"]})
    for reason in UNWRITTEN:
        assert_error(admin.get("/api/ledgers/children", query_string={**query, "reason": reason}), 422,
                     "validation_error", fields={"reason": ["导出未脱敏台账须写明理由（4 到 500 个字符）"]})
    assert_error(admin.get("/api/ledgers/children", query_string={**query, "reason": TOO_LONG}), 422,
                 "validation_error", fields={"reason": ["最多 500 个字符"]})
    response = admin.get("/api/ledgers/children", query_string={**query, "reason": WRITTEN})
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    assert "欧阳明月" in response.data.decode("utf-8-sig")
    masked = admin.get("/api/ledgers/children", query_string={"format": "csv", "reason": "   "})
    assert masked.status_code == 200, "a masked export needs no reason"
