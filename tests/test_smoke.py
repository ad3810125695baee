"""End-to-end smoke: health, login, scoped reads, masking."""


def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_grid_worker_sees_own_grid_children_masked(town, login):
    api = login("worker_a")
    body = api.get("/api/children").get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 50
    row = body["rows"][0]
    assert row["id"] == town.children["a1"]
    assert row["name"] == "欧阳明月"
    assert row["id_number"] == "430699********0011"
    assert api.get(f"/api/children/{town.children['b1']}").status_code == 404


def test_a_serving_app_freezes_its_start_up_heap_and_filters_its_request_log(tmp_path, werkzeug_log):
    """`make run` serves `serving_app()`: what it loaded at start leaves the full collections, and
    its request log leaves out query strings (test_request_log)."""
    import gc

    from server import request_log, serving_app
    from tests.conftest import _master_key

    gc.unfreeze()
    try:
        app = serving_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}",
                                   "HULEI_MASTER_KEY": _master_key(), "SKIP_KEY_CHECK": True})
        assert gc.get_freeze_count() > 10_000
        assert all(obj is not app.config for obj in gc.get_objects())  # frozen: in no generation
        assert sum(isinstance(f, request_log.WithoutQuery) for f in werkzeug_log.filters) == 1
    finally:
        gc.unfreeze()
