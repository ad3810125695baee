"""The opaque pull cursor: a change-log position and the scope it was read under."""
import base64
import json
from dataclasses import dataclass

from sqlalchemy import select

from ..errors import ApiError
from ..extensions import db
from ..models import Counter


def scope_of(user) -> dict:
    """Return what the user's pull scope depends on."""
    return {"r": user.role, "v": user.village_id, "g": sorted(user.grid_ids)}


@dataclass(frozen=True)
class Rescope:
    """Where a paged move between scopes stands: the scope left, the phase, the last row sent."""

    prior: dict
    phase: str  # "evict": the old scope's records; "add": the new scope's, up to the cursor
    after: int


@dataclass(frozen=True)
class Cursor:
    """A change-log position, the scope it was read under, and a move between scopes under way."""

    seq: int
    scope: dict | None
    rescope: Rescope | None = None


def encode(seq: int, scope: dict | None, rescope: Rescope | None = None) -> str:
    """Return the cursor for a change-log position read under `scope`."""
    body = {"s": seq, "sc": scope}
    if rescope is not None:
        body["rs"] = {"p": rescope.prior, "ph": rescope.phase, "at": rescope.after}
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str | None) -> Cursor | None:
    """Return the cursor, None for no cursor, or raise 400 for a malformed one."""
    if not token:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        seq, scope = int(body["s"]), body.get("sc")
        if seq < 0 or (scope is not None and not isinstance(scope, dict)):
            raise ValueError
        rescope = None
        if "rs" in body:
            state = body["rs"]
            rescope = Rescope(state["p"], state["ph"], int(state["at"]))
            if not isinstance(rescope.prior, dict) or rescope.phase not in ("evict", "add") \
                    or scope is None or rescope.after < 0:
                raise ValueError
        return Cursor(seq, scope, rescope)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "bad_cursor", "同步游标无效，请重新同步") from None


def head_seq() -> int:
    """Return the newest change-log position."""
    return db.session.scalar(select(Counter.value).where(Counter.name == "change")) or 0


def head_cursor() -> str:
    """Return a cursor at the newest position, with no scope (informational)."""
    return encode(head_seq(), None)
