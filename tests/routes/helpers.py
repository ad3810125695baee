"""Helpers of the route suites: whole-envelope checks and snapshots of stored rows."""
from sqlalchemy import select

from server.extensions import db

# Tables a refused request must leave exactly as they were (sessions and login bookkeeping
# are left out: reading /me legitimately touches last_seen_at).
WRITE_TABLES = ("household", "guardian_phone", "child", "venue", "user", "user_grid",
                "audit_event", "change_log", "clue")

NOT_FOUND = {"error": {"code": "not_found", "message": "记录不存在"}}
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "请先登录"}}
CSRF_FAILED = {"error": {"code": "csrf_failed", "message": "缺少或错误的 CSRF 令牌，请刷新后重试"}}


def snapshot(app, tables=WRITE_TABLES) -> dict:
    """Return every row of `tables`, in a stable order, so that any change shows."""
    with app.app_context():
        meta = db.metadata.tables
        return {name: sorted(tuple(repr(v) for v in row)
                             for row in db.session.execute(select(meta[name])).all())
                for name in tables}


def row_of(app, model, record_id: str) -> dict:
    """Return a stored row as a dict of its columns (ciphertexts included)."""
    with app.app_context():
        table = model.__table__
        row = db.session.execute(select(table).where(table.c.id == record_id)).mappings().one()
        return dict(row)


def assert_error(response, status: int, code: str, fields: dict | None = None,
                 field_names: set | None = None) -> dict:
    """Assert the one error envelope: status, code, a Chinese message and the named fields."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and any("\u4e00" <= ch <= "\u9fff"
                                                     for ch in error["message"])
    if fields is not None:
        assert error.get("fields") == fields
    if field_names is not None:
        assert set(error.get("fields", {})) == field_names
    if fields is None and field_names is None:
        assert set(error) == {"code", "message"}
    return error
