"""One lookup answers both questions of scope: `get_scoped` returns the record or the 404, `sees`
says yes or no, and they agree on every kind of id."""
import uuid

import pytest

from server.errors import ApiError
from server.extensions import db
from server.models import Child, User, utcnow
from server.services import scope


def _answers(user, record_id: str, include_deleted: bool = False) -> tuple[bool, str | int]:
    """(sees, the id get_scoped returns or the status it raises)."""
    try:
        got = scope.get_scoped(user, Child, record_id, include_deleted).id
    except ApiError as error:
        got = error.status
    return scope.sees(user, Child, record_id), got


@pytest.mark.parametrize("username, key, expected", [
    ("head_a", "a1", True), ("head_a", "b1", False), ("head_a", "missing", False),
    ("head_a", "deleted", False), ("worker_a", "a1", True), ("police", "a1", False)])
def test_sees_and_get_scoped_agree(ctx, town, username, key, expected):
    db.session.get(Child, town.children["a2"]).deleted_at = utcnow()
    db.session.commit()
    ids = {**town.children, "missing": str(uuid.uuid4()), "deleted": town.children["a2"]}
    user = db.session.get(User, town.users[username])
    assert _answers(user, ids[key]) == (expected, ids[key] if expected else 404)


def test_only_get_scoped_reaches_a_deleted_record_when_asked(ctx, town):
    db.session.get(Child, town.children["a2"]).deleted_at = utcnow()
    db.session.commit()
    head = db.session.get(User, town.users["head_a"])
    assert _answers(head, town.children["a2"], include_deleted=True) == (False, town.children["a2"])
