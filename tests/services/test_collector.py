"""The garbage collector is held off for a push batch, and only for it."""
import gc
import threading
import uuid

import pytest

from server.services import collector
from server.sync import push as push_module
from tests.sync.test_push_pull_basics import op, push


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_runs_again_only_when_the_last_overlapping_pause_ends():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second():
        first_in.wait()
        with collector.paused():
            second_in.set()
            first_out.wait()
            seen["after_first_left"] = gc.isenabled()
        seen["after_both_left"] = gc.isenabled()

    thread = threading.Thread(target=second)
    thread.start()
    with collector.paused():
        seen["inside"] = gc.isenabled()
        first_in.set()
        second_in.wait()
    first_out.set()
    thread.join()
    assert seen == {"inside": False, "after_first_left": False, "after_both_left": True}


def test_a_collector_the_process_turned_off_stays_off():
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_a_push_runs_without_the_collector_and_turns_it_back_on_after_success_or_failure(
        town, login, monkeypatch):
    api = login("worker_a", device_id="phone-worker-a-collector")
    during, real = [], push_module.push_batch

    def watched(actor, envelope):
        during.append(gc.isenabled())
        return real(actor, envelope)

    monkeypatch.setattr("server.routes.sync.push_batch", watched)
    answer = push(api, [op("household", "create", str(uuid.uuid4()),
                           {"grid_id": town.grids["a1"], "address": "收集器1号"})])
    assert [r["status"] for r in answer["results"]] == ["applied"]
    too_many = api.post("/api/sync/push", json={"device_id": api.device_id, "ops": [
        op("household", "create", str(uuid.uuid4())) for _ in range(501)]})
    assert too_many.status_code == 413
    assert during == [False, False]
    assert gc.isenabled()


def test_pauses_that_keep_overlapping_still_collect_once_the_collector_has_been_off_too_long(
        monkeypatch):
    collections = []

    def seen(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    monkeypatch.setattr(collector, "MAX_OFF_S", 0.0)
    gc.callbacks.append(seen)
    try:
        with collector.paused():
            with collector.paused():
                pass
            inner_left = list(collections)
            assert not gc.isenabled()
    finally:
        gc.callbacks.remove(seen)
    assert inner_left == [2]
    assert gc.isenabled()
