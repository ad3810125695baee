"""Devices: registered at login, listed for the town admin, revoked, and checked on every sync."""
import uuid
from datetime import UTC, datetime

from server.extensions import db
from server.models import Device
from tests import factories
from tests.routes.helpers import assert_error
from tests.sync.test_push_pull_basics import op, pull_all, push

DEVICE = "phone-worker-a-devices"


def _device_row(app, device_id):
    with app.app_context():
        device = db.session.get(Device, device_id)
        return None if device is None else {
            "user_id": device.user_id, "last_login_at": device.last_login_at,
            "last_push_at": device.last_push_at, "last_pull_at": device.last_pull_at,
            "revoked_at": device.revoked_at}


def _listed(admin, device_id=None):
    response = admin.get("/api/devices?per_page=500")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (len(body["rows"]), 1, 500)
    rows = {row["id"]: row for row in body["rows"]}
    return rows if device_id is None else rows[device_id]


def _at(text):
    return None if text is None else datetime.fromisoformat(text)


def test_login_with_a_device_id_registers_the_device(app, town, login):
    before = datetime.now(UTC)
    login("worker_a", device_id=DEVICE)
    row = _device_row(app, DEVICE)
    assert row["user_id"] == town.users["worker_a"]
    assert before <= row["last_login_at"] <= datetime.now(UTC)
    assert (row["last_push_at"], row["last_pull_at"], row["revoked_at"]) == (None, None, None)
    login("worker_a")
    assert _device_row(app, DEVICE)["last_login_at"] >= row["last_login_at"]


def test_a_device_of_one_user_cannot_be_logged_into_by_another(app, town, login):
    login("worker_a", device_id=DEVICE)
    api = factories.ApiClient(app.test_client())
    response = api.client.post("/api/auth/login", json={
        "username": "worker_b", "password": factories.PASSWORD, "device_id": DEVICE})
    assert_error(response, 409, "device_in_use")
    assert _device_row(app, DEVICE)["user_id"] == town.users["worker_a"]


def test_admin_lists_devices_with_last_push_and_pull(town, login):
    worker = login("worker_a", device_id=DEVICE)
    login("head_a", device_id="phone-head-a-devices")
    admin = login("admin", device_id="pc-admin-devices")
    listed = _listed(admin)
    assert set(listed) == {DEVICE, "phone-head-a-devices", "pc-admin-devices"}
    row = listed[DEVICE]
    assert set(row) == {"id", "user_id", "username", "display_name", "role", "created_at", "last_login_at",
                        "last_push_at", "last_pull_at", "revoked_at", "revoked_by", "recoverable"}
    assert (row["user_id"], row["username"], row["display_name"], row["role"], row["last_push_at"],
            row["last_pull_at"], row["revoked_at"], row["revoked_by"], row["recoverable"]) == (
        town.users["worker_a"], "worker_a", "测试worker_a", "grid_worker", None, None, None, None, False)
    assert worker.post("/api/auth/recovery-key", json={"password": factories.PASSWORD}).status_code == 200
    assert _listed(admin, DEVICE)["recoverable"] is True
    start = datetime.now(UTC)
    push(worker, [op("household", "create", str(uuid.uuid4()),
                     {"grid_id": town.grids["a1"], "address": "新户1号"})])
    row = _listed(admin, DEVICE)
    assert start <= _at(row["last_push_at"]) <= datetime.now(UTC)
    assert row["last_pull_at"] is None
    pulled_from = datetime.now(UTC)
    pull_all(worker)
    row = _listed(admin, DEVICE)
    assert pulled_from <= _at(row["last_pull_at"]) <= datetime.now(UTC)
    assert _at(row["last_push_at"]) <= pulled_from
    only = admin.get(f"/api/devices?user_id={town.users['worker_a']}").get_json()
    assert [r["id"] for r in only["rows"]] == [DEVICE] and only["total"] == 1


def test_only_the_town_admin_lists_devices(town, login):
    for username in ("worker_a", "head_a", "inspector", "police"):
        api = login(username, device_id=f"phone-{username}-devlist")
        assert_error(api.get("/api/devices"), 404, "not_found")


def test_revoked_device_cannot_push_pull_or_log_in_again(app, town, login):
    worker = login("worker_a", device_id=DEVICE)
    other = login("worker_a", device_id="phone-worker-a-spare")
    _, cursor = pull_all(worker)
    admin = login("admin", device_id="pc-admin-devices")
    response = admin.post(f"/api/devices/{DEVICE}/revoke")
    assert response.status_code == 204 and response.get_data() == b""
    row = _listed(admin, DEVICE)
    assert _at(row["revoked_at"]) is not None and row["revoked_by"] == town.users["admin"]
    body = {"device_id": DEVICE, "ops": [op("household", "create", str(uuid.uuid4()),
                                            {"grid_id": town.grids["a1"], "address": "新户2号"})]}
    assert_error(worker.post("/api/sync/push", json=body), 410, "device_revoked")
    assert_error(worker.get(f"/api/sync/pull?cursor={cursor}"), 410, "device_revoked")
    assert_error(worker.get("/api/sync/pull"), 410, "device_revoked")
    fresh = factories.ApiClient(app.test_client())
    response = fresh.client.post("/api/auth/login", json={
        "username": "worker_a", "password": factories.PASSWORD, "device_id": DEVICE})
    assert_error(response, 410, "device_revoked")
    assert worker.get("/api/households").status_code == 410
    assert admin.get("/api/households").get_json()["total"] == 3
    # The user's other phone keeps working.
    spare = push(other, [op("household", "create", str(uuid.uuid4()),
                            {"grid_id": town.grids["a1"], "address": "新户3号"})])
    assert spare["results"][0]["status"] == "applied"
    assert {c["entity"] for c in pull_all(other)[0]} == {"household", "child"}


def test_revoking_twice_keeps_the_first_revocation(app, town, login):
    login("worker_a", device_id=DEVICE)
    admin = login("admin", device_id="pc-admin-devices")
    assert admin.post(f"/api/devices/{DEVICE}/revoke").status_code == 204
    first = _device_row(app, DEVICE)["revoked_at"]
    assert admin.post(f"/api/devices/{DEVICE}/revoke").status_code == 204
    assert _device_row(app, DEVICE)["revoked_at"] == first


def test_revoke_by_non_admin_or_of_unknown_device_is_404(app, town, login):
    worker = login("worker_a", device_id=DEVICE)
    for username in ("worker_a", "head_a", "inspector", "police"):
        api = worker if username == "worker_a" else login(username,
                                                          device_id=f"phone-{username}-rv")
        assert_error(api.post(f"/api/devices/{DEVICE}/revoke"), 404, "not_found")
    assert _device_row(app, DEVICE)["revoked_at"] is None
    admin = login("admin", device_id="pc-admin-devices")
    assert_error(admin.post("/api/devices/no-such-device-0001/revoke"), 404, "not_found")
    assert push(worker, [])["results"] == []


def test_push_or_pull_from_another_device_than_the_sessions_is_403(town, login):
    worker = login("worker_a", device_id=DEVICE)
    login("worker_a", device_id="phone-worker-a-spare")
    ops = [op("household", "create", str(uuid.uuid4()),
              {"grid_id": town.grids["a1"], "address": "新户4号"})]
    for device_id in ("phone-worker-a-spare", "phone-never-seen-01"):
        response = worker.post("/api/sync/push", json={"device_id": device_id, "ops": ops})
        assert_error(response, 403, "device_mismatch")
    assert worker.get("/api/households").get_json()["total"] == 1


def test_a_session_opened_without_a_device_pulls_and_takes_the_device_of_its_first_push(app, town, login):
    """API.md makes login's device_id optional and names the device in every push."""
    login("worker_b", device_id="phone-worker-b-owned")
    without = login("worker_a")
    changes, _ = pull_all(without)
    assert {c["id"] for c in changes if c["entity"] == "household"} == {town.households["a1"]}
    ops = [op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a1"], "address": "新户6号"})]
    assert_error(without.post("/api/sync/push", json={"device_id": "phone-worker-b-owned", "ops": ops}),
                 409, "device_in_use")
    first = without.post("/api/sync/push", json={"device_id": "phone-worker-a-late", "ops": ops})
    assert [r["status"] for r in first.get_json()["results"]] == ["applied"]
    row = _device_row(app, "phone-worker-a-late")
    assert (row["user_id"], row["revoked_at"]) == (town.users["worker_a"], None)
    assert row["last_push_at"] is not None
    more = [op("household", "create", str(uuid.uuid4()), {"grid_id": town.grids["a1"], "address": "新户7号"})]
    assert_error(without.post("/api/sync/push", json={"device_id": "phone-worker-a-other", "ops": more}),
                 403, "device_mismatch")
    pull_all(without)
    assert _device_row(app, "phone-worker-a-late")["last_pull_at"] is not None
    admin = login("admin", device_id="pc-admin-devices")
    assert admin.post("/api/devices/phone-worker-a-late/revoke").status_code == 204
    assert_error(without.get("/api/sync/pull"), 410, "device_revoked")


def test_outdated_client_schema_is_400(town, login):
    worker = login("worker_a", device_id=DEVICE)
    ops = [op("household", "create", str(uuid.uuid4()),
              {"grid_id": town.grids["a1"], "address": "新户5号"})]
    response = worker.post("/api/sync/push", json={"device_id": DEVICE, "schema_version": 0,
                                                   "ops": ops})
    assert_error(response, 400, "client_outdated")
    assert worker.get("/api/households").get_json()["total"] == 1
    ok = worker.post("/api/sync/push", json={"device_id": DEVICE, "schema_version": 1, "ops": ops})
    assert ok.status_code == 200 and ok.get_json()["results"][0]["status"] == "applied"
