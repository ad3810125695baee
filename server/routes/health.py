"""Liveness and database reachability."""
from flask import Blueprint
from sqlalchemy import text

from ..errors import ApiError
from ..extensions import db

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    """Answer ok when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise ApiError(503, "db_unavailable", "数据库不可用") from None
    return {"status": "ok", "db": "ok"}
