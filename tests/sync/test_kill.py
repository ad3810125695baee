"""SIGKILL the real server while it applies a 500-op batch; the retried batch applies exactly once."""
import base64
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import AppliedOp, AuditEvent, Household, Visit
from server.services.audit import verify_chain

from .. import factories
from ..conftest import make_app
from .test_push_pull_basics import op

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 20
DEVICE = "phone-worker-a-kill"
# The next server imports and builds its app while the current one runs, then serves on a line
# from its stdin: a restart costs the port bind, not the imports.
SERVE = """
import sys
from werkzeug.serving import run_simple
from server import create_app
from server.extensions import db
app = create_app()
with app.app_context():
    db.engine.dispose()
sys.stdin.readline()
run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
"""


class Http:
    """A minimal JSON client that keeps the session cookie and the CSRF token across restarts."""

    def __init__(self, port: int):
        self.port, self.cookie, self.csrf = port, None, None

    def call(self, method: str, path: str, body=None, timeout: float = 120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("hulei_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, json.loads(raw) if raw else None


class Server:
    """The app served by werkzeug in a subprocess, killed and restarted at will."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.proc = env, log, None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.standby = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        with open(self.log, "ab") as log:
            return subprocess.Popen([sys.executable, "-c", SERVE, str(self.port)], cwd=ROOT,
                                    env=self.env, stdin=subprocess.PIPE, stdout=log, stderr=log)

    def start(self) -> None:
        self.proc, self.standby = self.standby, None
        self.proc.stdin.write(b"serve\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                if Http(self.port).call("GET", "/api/health", timeout=2)[0] == 200:
                    self.standby = self._spawn()
                    return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        """SIGKILL the serving process and the standby."""
        for proc in (self.proc, self.standby):
            if proc is not None:
                _kill(proc)

    def crash(self) -> None:
        """SIGKILL the serving process only (the standby waits to take over)."""
        _kill(self.proc)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdin.close()


def _batch(town, round_no: int) -> list[dict]:
    """Return 500 create ops: four households to one visit (a visit costs the server far more)."""
    ops = []
    for n in range(500):
        if n % 5:
            ops.append(op("household", "create", str(uuid.uuid4()),
                          {"grid_id": town.grids["a1"], "address": f"断电巷{round_no}-{n}号"}))
        else:
            at = f"2025-{1 + round_no % 12:02d}-{1 + n // 5 % 28:02d}T{n % 24:02d}:{round_no:02d}:00+08:00"
            ops.append(op("visit", "create", str(uuid.uuid4()),
                          {"child_id": town.children["a1"], "visited_at": at, "notes": f"第{n}次"}))
    return ops


def _push(api: Http, ops: list[dict]):
    return api.call("POST", "/api/sync/push", {"device_id": DEVICE, "ops": ops,
                                               "device_time": "2026-11-28T10:00:00+08:00"})


def test_killed_server_applies_each_batch_once(tmp_path):
    url, key = f"sqlite:///{tmp_path / 'kill.db'}", base64.b64encode(os.urandom(32)).decode()
    app = make_app(url, HULEI_MASTER_KEY=key)
    with app.app_context():
        town = factories.build_town()
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "HULEI_MASTER_KEY": key, "HULEI_ENV": "development",
           "SECRET_KEY": "kill-test-secret-key-0123456789", "PYTHONWARNINGS": "ignore"}
    server, rng = Server(env, tmp_path / "server.log"), random.Random(1128)
    server.start()
    api = Http(server.port)
    status, body = api.call("POST", "/api/auth/login", {"username": "worker_a", "device_id": DEVICE,
                                                       "password": factories.PASSWORD})
    assert status == 200, body
    api.csrf = body["csrf_token"]
    batches, outcomes, apply_time = [], [], 1.0
    try:
        for round_no in range(ROUNDS):
            ops = _batch(town, round_no)
            batches.append(ops)
            sender = threading.Thread(target=_quietly, args=(_push, api, ops), daemon=True)
            sender.start()
            time.sleep(rng.uniform(0, 1.5 * apply_time))
            server.crash()
            sender.join()
            server.start()
            started = time.monotonic()
            status, body = _push(api, ops)
            assert status == 200, body
            statuses = {r["status"] for r in body["results"]}
            assert statuses in ({"applied"}, {"duplicate"}), f"round {round_no}: half a batch {statuses}"
            if statuses == {"applied"}:
                apply_time = time.monotonic() - started
            assert [(r["op_id"], r["id"], r["version"]) for r in body["results"]] == [
                (o["op_id"], o["id"], 1) for o in ops]
            outcomes.append(statuses.pop())
    finally:
        server.kill()
    assert "applied" in outcomes and "duplicate" in outcomes, f"kills never split both ways: {outcomes}"
    with app.app_context():
        ids = {o["id"] for ops in batches for o in ops}
        assert db.session.scalar(select(func.count()).select_from(AppliedOp)) == len(ids) == 500 * ROUNDS
        stored = set(db.session.scalars(select(Household.id))) | set(db.session.scalars(select(Visit.id)))
        assert ids <= stored and len(stored) == len(ids) + len(town.households)
        creates = db.session.execute(select(AuditEvent.entity_id, func.count()).where(
            AuditEvent.action.in_(["household.create", "visit.create"]))
            .group_by(AuditEvent.entity_id)).all()
        assert len(creates) == len(ids) and {count for _, count in creates} == {1}
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert verify_chain()["ok"]
        db.engine.dispose()


def _quietly(call, *args):
    """Run `call`, swallowing the connection error a killed server leaves."""
    try:
        call(*args)
    except (OSError, http.client.HTTPException):
        pass
