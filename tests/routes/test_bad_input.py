"""Malformed, mistyped, oversized and hostile input: always the envelope, a 4xx, nothing written."""
import re

import pytest
from werkzeug import exceptions as http_errors

from server.services import listing
from server.services import registry as registry_service
from tests import factories

from .helpers import NOT_FOUND, assert_error, snapshot

JSON = "application/json"
UNKNOWN = ["不允许的字段"]
BAD_TEXT = ["含有无效字符"]


def _write_endpoints(town):
    """(method, url) of every JSON write the admin may make on the test town."""
    return [
        ("POST", "/api/households"),
        ("PATCH", f"/api/households/{town.households['a1']}"),
        ("POST", "/api/children"),
        ("PATCH", f"/api/children/{town.children['a1']}"),
        ("POST", "/api/venues"),
        ("PATCH", f"/api/venues/{town.venues['a']}"),
        ("POST", f"/api/children/{town.children['a1']}/reveal"),
        ("POST", "/api/users"),
        ("PATCH", f"/api/users/{town.users['worker_a']}"),
        ("POST", "/api/auth/password"),
    ]


def _send(api, method, url, data, content_type):
    headers = {"X-CSRF-Token": api.csrf}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.open(url, method=method, data=data, headers=headers)


BAD_BODIES = [
    ("malformed", b'{"address": ', JSON, 400, "bad_json"),
    ("trailing comma", b'{"address": "x",}', JSON, 400, "bad_json"),
    ("empty", b"", JSON, 400, "bad_json"),
    ("deeply nested", b"[" * 50_000 + b"]" * 50_000, JSON, 400, "bad_json"),
    ("array", b'[{"address": "x"}]', JSON, 422, "validation_error"),
    ("string", b'"address"', JSON, 422, "validation_error"),
    ("number", b"42", JSON, 422, "validation_error"),
    ("null", b"null", JSON, 422, "validation_error"),
    ("not utf-8", b'{"address": "\xff\xfe"}', JSON, 400, "bad_encoding"),
    ("latin-1", '{"address": "café"}'.encode("latin-1"), JSON, 400, "bad_encoding"),
    ("utf-16", '{"address": "x"}'.encode("utf-16"), JSON, 400, "bad_encoding"),
    ("form", b"address=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("text", b'{"address": "x"}', "text/plain", 415, "unsupported_media_type"),
    ("no content type", b'{"address": "x"}', None, 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("label, data, content_type, status, code", BAD_BODIES,
                         ids=[b[0] for b in BAD_BODIES])
def test_unreadable_bodies_get_the_envelope(app, town, login, label, data, content_type, status,
                                            code):
    api = login("admin")
    before = snapshot(app)
    for method, url in _write_endpoints(town):
        response = _send(api, method, url, data, content_type)
        assert_error(response, status, code)
    assert snapshot(app) == before


def test_body_over_5_mb_is_413(app, town, login, client):
    api = login("admin")
    before = snapshot(app)
    big = b'{"address": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    for method, url in _write_endpoints(town):
        assert_error(_send(api, method, url, big, JSON), 413, "payload_too_large")
    response = client.post("/api/auth/login", data=big, content_type=JSON)
    assert_error(response, 413, "payload_too_large")
    assert response.get_json()["error"]["message"] == "请求内容过大（上限 5 MB）"
    assert snapshot(app) == before


def _cases(town):
    a1, child = town.grids["a1"], town.households["a1"]
    household = {"grid_id": a1, "address": "新登记的一户"}
    kid = {"household_id": child, "name": "新登记儿童"}
    venue = {"village_id": town.villages["a"], "type": "ktv", "name": "新登记KTV"}
    num = ["应为数字"]
    return [
        ("POST", "/api/households", {**household, "lat": "29.1", "lon": 113.2}, {"lat": num}),
        ("POST", "/api/households", {**household, "lat": "北纬29度", "lon": 113.2}, {"lat": num}),
        ("POST", "/api/households", {**household, "lat": True, "lon": 113.2}, {"lat": num}),
        ("POST", "/api/households", {**household, "lat": 29.1, "lon": [113.2]}, {"lon": num}),
        ("POST", "/api/households", {**household, "lat": 91, "lon": 113.2},
         {"lat": ["纬度应在 -90 到 90 之间"]}),
        ("POST", "/api/households", {**household, "lat": 29.1}, {"lat": ["经纬度需同时提供"]}),
        ("POST", "/api/households", {**household, "address": 123}, {"address": ["应为文本"]}),
        ("POST", "/api/households", {**household, "guardians": "张三"}, {"guardians": ["应为列表"]}),
        ("POST", "/api/households", {**household, "guardians": [{"name": 1, "relation": "父"}]},
         {"guardians.0.name": ["应为文本"]}),
        ("POST", "/api/households", {**household, "guardians": [{"name": "张三", "relation": "父",
                                                                 "phone": "12345"}]},
         {"guardians.0.phone": ["电话号码格式不正确"]}),
        ("POST", "/api/households", {**household, "id": "not-a-uuid"}, {"id": ["应为 UUID"]}),
        ("POST", "/api/households", {**household, "id": 12345}, {"id": ["应为 UUID"]}),
        ("POST", "/api/households", {**household, "colour": "red"}, {"colour": UNKNOWN}),
        ("POST", "/api/households", {**household, "address": "槐花巷\x00"}, {"address": BAD_TEXT}),
        ("POST", "/api/households", {**household, "grid_id": "\x00"}, {"grid_id": BAD_TEXT}),
        ("POST", "/api/households",              # a lone surrogate, as JSON allows it to be written
         b'{"grid_id": "%s", "address": "x", "guardians": [{"name": "\\ud800", "relation": "x"}]}'
         % a1.encode(), {"guardians": BAD_TEXT}),
        ("POST", "/api/children", {}, {"household_id": ["必填项"], "name": ["必填项"]}),
        ("POST", "/api/children", {**kid, "name": 42}, {"name": ["应为文本"]}),
        ("POST", "/api/children", {**kid, "name": None}, {"name": ["不能为空"]}),
        ("POST", "/api/children", {**kid, "id": "123e4567-e89b-12d3-a456"}, {"id": ["应为 UUID"]}),
        ("POST", "/api/children", {**kid, "birth_date": "2015-13-01"},
         {"birth_date": ["日期格式应为 YYYY-MM-DD"]}),
        ("POST", "/api/children", {**kid, "id_number": "123"},
         {"id_number": ["身份证号码应为 18 位（末位可为 X）"]}),
        ("POST", "/api/children", {**kid, "id_number": "430699201501010012"},
         {"id_number": ["身份证号码校验位不正确"]}),
        ("POST", "/api/children", {**kid, "categories": "left_behind"}, {"categories": ["应为列表"]}),
        ("POST", "/api/children", {**kid, "sex": "X"}, {"sex": ["取值无效，可选：F, M"]}),
        # A refused choice is never echoed: what was typed in the wrong field may be personal.
        ("POST", "/api/children", {**kid, "sex": "430699201501010013"}, {"sex": ["取值无效，可选：F, M"]}),
        ("PATCH", f"/api/children/{town.children['a1']}", {"name": ["欧阳"]}, {"name": ["应为文本"]}),
        ("PATCH", f"/api/children/{town.children['a1']}", {"household_id": 7},
         {"household_id": ["应为文本"]}),
        ("PATCH", f"/api/households/{town.households['a1']}", {"lat": "29", "lon": "113"},
         {"lat": num, "lon": num}),
        ("POST", "/api/venues", {**venue, "type": "casino"},
         {"type": ["取值无效，可选：hotel, esports_hotel, cinema, internet_cafe, bar, ktv, other"]}),
        ("POST", "/api/venues", {**venue, "name": {"zh": "KTV"}}, {"name": ["应为文本"]}),
        ("PATCH", f"/api/venues/{town.venues['a']}", {"lat": "NaN", "lon": 1}, {"lat": num}),
        ("POST", f"/api/children/{town.children['a1']}/reveal", {"field": "address", "reason": "核对身份"},
         {"field": ["取值无效，可选：id_number, guardian_phones, name"]}),
        ("PATCH", f"/api/children/{town.children['a1']}", {"name": "欧**月"},
         {"name": ["姓名中不能有 *：脱敏显示的姓名不能作为修改提交"]}),
        ("POST", f"/api/children/{town.children['a1']}/reveal", {"field": "id_number", "reason": 1},
         {"reason": ["应为文本"]}),
        # Four spaces are no reason: the audit would keep a blank one for a child's identity opened.
        ("POST", f"/api/children/{town.children['a1']}/reveal", {"field": "id_number", "reason": "    "},
         {"reason": ["请写明查看理由（4 到 500 个字符）"]}),
        ("POST", f"/api/children/{town.children['a1']}/risk-override", {"level": "high", "reason": " 核 "},
         {"reason": ["请写明理由（4 到 500 个字符）"]}),
        ("PATCH", f"/api/users/{town.users['worker_a']}", {"active": "maybe"},
         {"active": ["应为真或假"]}),
        ("PATCH", f"/api/users/{town.users['worker_a']}", {"grid_ids": town.grids["a1"]},
         {"grid_ids": ["应为列表"]}),
        ("POST", "/api/auth/password", {"old_password": factories.PASSWORD, "new_password": 12345678},
         {"new_password": ["应为文本"]}),
    ]


def test_wrong_types_and_unknown_fields_name_the_field(app, town, login):
    api = login("admin")
    before = snapshot(app)
    for method, url, body, fields in _cases(town):
        if isinstance(body, bytes):
            response = _send(api, method, url, body, JSON)
        else:
            response = api.client.open(url, method=method, json=body,
                                       headers={"X-CSRF-Token": api.csrf})
        assert_error(response, 422, "validation_error", fields=fields)
    assert snapshot(app) == before


def test_login_with_bad_input(app, town, client):
    before = snapshot(app, ("audit_event", "login_failure", "user_session"))
    cases = [
        ({"username": 1, "password": "x"}, {"username": ["应为文本"]}),
        ({"username": "worker_a"}, {"password": ["必填项"]}),
        ({"username": "worker_a\x00", "password": "x"}, {"username": BAD_TEXT}),
        ({"username": "worker_a", "password": factories.PASSWORD, "remember": True},
         {"remember": UNKNOWN}),
        ({"username": "worker_a", "password": factories.PASSWORD, "device_id": "../../etc"},
         {"device_id": ["设备编号格式不正确"]}),
    ]
    for body, fields in cases:
        assert_error(client.post("/api/auth/login", json=body), 422, "validation_error",
                     fields=fields)
    assert snapshot(app, ("audit_event", "login_failure", "user_session")) == before


@pytest.mark.parametrize("query, fields", [
    ("per_page=0", {"per_page": ["每页 1 到 500 条"]}),
    ("per_page=501", {"per_page": ["每页 1 到 500 条"]}),
    ("per_page=x", {"per_page": ["应为整数"]}),
    ("per_page=1.5", {"per_page": ["应为整数"]}),
    ("page=0", {"page": ["页码应在 1 到 1000000 之间"]}),
    ("page=99999999999999999999", {"page": ["页码应在 1 到 1000000 之间"]}),
    ("page=-1", {"page": ["页码应在 1 到 1000000 之间"]}),
    ("colour=red", {"colour": UNKNOWN}),
    ("village_id=%00", {"village_id": BAD_TEXT}),
])
def test_bad_paging_and_filters_are_422(app, town, login, query, fields):
    api = login("admin")
    for path in ("/api/households", "/api/children", "/api/venues", "/api/audit"):
        assert_error(api.get(f"{path}?{query}"), 422, "validation_error", fields=fields)


def test_list_filter_values_are_checked(app, town, login):
    api = login("admin")
    assert_error(api.get("/api/children?risk_level=extreme"), 422, "validation_error",
                 fields={"risk_level": ["取值无效，可选：low, medium, high"]})
    body = api.get("/api/children?grid_id=%ff%fe").get_json()
    assert (body["rows"], body["total"]) == ([], 0)


def test_bad_ids_in_the_path_are_404(app, town, login):
    api = login("admin")
    before = snapshot(app)
    for record_id in ("not-a-uuid", "x" * 300, "%00", "a%00b", "%ff", "1%20OR%201=1", "'"):
        for kind in ("households", "children", "venues"):
            url = f"/api/{kind}/{record_id}"
            for response in (api.get(url), api.patch(url, json={"name": "x"})):
                assert (response.status_code, response.get_json()) == (404, NOT_FOUND), url
        response = api.post(f"/api/children/{record_id}/reveal",
                            json={"field": "id_number", "reason": "核对身份"})
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
        response = api.patch(f"/api/users/{record_id}", json={"active": False})
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert snapshot(app) == before


def test_unknown_api_urls_are_404(app, town, login):
    api = login("admin")
    for response in (api.get("/api/nope"), api.get("/api"), api.get("/api/children/x/y"),
                     api.post("/api/nope", json={}), api.patch("/api/places/1", json={}),
                     api.delete("/api/auth")):
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert app.test_client().get("/api/nope").get_json() == NOT_FOUND


def _sloppy_urls(app) -> list[str]:
    """Every URL of the app with one slash doubled, and with its trailing slash toggled."""
    urls = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        urls.update(path[:i] + "/" + path[i:] for i in range(1, len(path)) if path[i] == "/")
        urls.add(path[:-1] if path.endswith("/") else path + "/")
    return sorted(url for url in urls if url.startswith("/") and not url.startswith("//"))


def test_sloppy_urls_get_the_envelope_not_a_redirect(app, town, login):
    # werkzeug answers a route it would reach by merging or adding slashes with a 308 whose body
    # is an English HTML page ("Redirecting... You should be redirected automatically"), which
    # skips the error handlers; an empty id (/api/children//risk) would land on another resource.
    api = login("admin")
    for url in ("/api//households", f"/api/children//{town.children['a1']}", "/api/children//risk"):
        for response in (api.get(url), api.post(url, json={})):
            assert (response.status_code, response.get_json()) == (404, NOT_FOUND), url
    for url in _sloppy_urls(app):
        for response in (api.get(url), api.post(url, json={})):
            assert not 300 <= response.status_code < 400, (url, response.status_code)
            if response.status_code >= 400:
                assert_error(response, response.status_code, response.get_json()["error"]["code"])


def test_wrong_method_is_405_with_allow(app, town, login):
    api = login("admin")
    cases = [
        (api.delete(f"/api/households/{town.households['a1']}"), {"GET", "PATCH"}),
        (api.get("/api/auth/logout"), {"POST"}),
        (api.client.put("/api/auth/me", headers={"X-CSRF-Token": api.csrf}), {"GET"}),
        (api.post("/api/places", json={}), {"GET"}),
    ]
    for response, allowed in cases:
        assert_error(response, 405, "method_not_allowed")
        assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_range_past_the_end_is_416_with_content_range(app, client):
    size = len(client.get("/js/app.js").get_data())
    response = client.get("/js/app.js", headers={"Range": f"bytes={size + 10}-"})
    assert_error(response, 416, "range_not_satisfiable")
    assert response.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("error, code", [(http_errors.PreconditionFailed, "precondition_failed"),
                                         (http_errors.Locked, "locked")])
def test_an_unlisted_client_error_keeps_its_status(app, town, login, monkeypatch, error, code):
    api = login("admin")

    def refuse(*args, **kwargs):
        raise error(LEAK)

    monkeypatch.setattr(listing, "list_records", refuse)
    response = api.get("/api/children")
    assert_error(response, error.code, code)
    assert response.get_json()["error"]["message"] == "请求无法处理"
    assert LEAK not in response.get_data(as_text=True)


LEAK = "SELECT id_number FROM child WHERE key='c2VjcmV0' /work/main/server/services"


def test_internal_error_is_500_without_details(app, town, login, monkeypatch):
    api = login("admin")

    def boom(*args, **kwargs):
        raise RuntimeError(LEAK)

    monkeypatch.setattr(listing, "list_records", boom)
    response = api.get("/api/children")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": "服务器内部错误"}}
    text = response.get_data(as_text=True)
    for leak in ("RuntimeError", "Traceback", "SELECT", "c2VjcmV0", "/work/main", ".py"):
        assert leak not in text


@pytest.mark.parametrize("error", [http_errors.InternalServerError, http_errors.NotImplemented,
                                   http_errors.ServiceUnavailable])
def test_a_server_side_http_error_is_500_not_a_bad_request(app, town, login, monkeypatch, error):
    api = login("admin")

    def fail(*args, **kwargs):
        raise error(LEAK)

    monkeypatch.setattr(listing, "list_records", fail)
    response = api.get("/api/children")
    assert (response.status_code, response.get_json()) == (
        500, {"error": {"code": "internal_error", "message": "服务器内部错误"}})
    assert LEAK not in response.get_data(as_text=True)


def test_internal_error_mid_write_leaves_nothing_behind(app, town, login, monkeypatch):
    api = login("admin")
    before = snapshot(app)
    real_save = registry_service.save_record

    def save_then_fail(*args, **kwargs):
        real_save(*args, **kwargs)          # the row, change log and audit event are flushed
        raise RuntimeError(LEAK)

    monkeypatch.setattr(registry_service, "save_record", save_then_fail)
    response = api.post("/api/households", json={"grid_id": town.grids["a1"], "address": "半途失败"})
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": "服务器内部错误"}}
    assert snapshot(app) == before
    monkeypatch.undo()
    assert api.get("/api/households").get_json()["total"] == 3


def test_an_edit_must_name_the_version_it_rests_on(app, town, login):
    """A PATCH without If-Match would let a stale copy overwrite newer edits unseen: 428, nothing
    stored; with a stale version 409; with the current one it applies."""
    api = login("worker_a")
    url = f"/api/children/{town.children['a1']}"
    before = snapshot(app)
    assert_error(api.patch(url, json={"notes": "没有版本号"}), 428, "version_required")
    assert_error(api.patch(url, json={"notes": "旧版本"}, headers={"If-Match": "0"}), 409, "version_conflict")
    assert snapshot(app) == before
    applied = api.patch(url, json={"notes": "当前版本"}, headers={"If-Match": '"1"'})
    assert applied.status_code == 200
    assert (applied.get_json()["notes"], applied.get_json()["version"]) == ("当前版本", 2)
