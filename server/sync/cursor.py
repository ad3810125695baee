"""The opaque pull cursor: a change-log position and the scope it was read under.

A cursor is signed for the user it was issued to (HMAC with the app's secret key). Its scope
decides what a move between scopes evicts and sends, so a cursor a client made up, or one
issued to someone else, would list the ids of records the caller may not see.
"""
import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from ..config import settings
from ..errors import ApiError

MAX_LENGTH = 4096  # a cursor the server issued is a few hundred characters; a scope's grids, a few more
# The shape of the records a pull sends, raised when they gain a field the phone reads: a phone
# whose cursor is of an older shape holds records without it, and pulls everything again.
# 2: a child's first_visit_due. 3: a visit's and an inspection's counted_at (the phone orders a
# venue's inspections by it).
SHAPE = 3


@dataclass(frozen=True)
class Rescope:
    """Where a paged move between scopes stands: the scope left, the phase, the last row sent, and
    the log's head when the move was seen."""

    prior: dict
    phase: str  # "evict": the old scope's records; "add": the new scope's; "tail": the pull up to `upto`
    after: int
    upto: int


@dataclass(frozen=True)
class Cursor:
    """A change-log position, the scope it was read under, and a move between scopes under way."""

    seq: int
    scope: dict | None
    rescope: Rescope | None = None
    shape: int = SHAPE
    fresh: int = 0  # a first pull's pages: up to here the phone held nothing, so it needs no tombstones


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(user_id: str, body: str) -> str:
    message = b"hulei-pull-cursor\x00" + user_id.encode() + b"\x00" + body.encode()
    return _b64(hmac.new(settings()["SECRET_KEY"].encode(), message, hashlib.sha256).digest()[:16])


def encode(user_id: str, seq: int, scope: dict | None, rescope: Rescope | None = None, fresh: int = 0) -> str:
    """Return the cursor, for `user_id`, of a change-log position read under `scope`."""
    body = {"s": seq, "sc": scope, "v": SHAPE}
    if fresh > seq:
        body["f"] = fresh
    if rescope is not None:
        body["rs"] = {"p": rescope.prior, "ph": rescope.phase, "at": rescope.after, "to": rescope.upto}
    raw = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{raw}.{_mac(user_id, raw)}"


def decode(token: str | None, user_id: str) -> Cursor | None:
    """Return the cursor, None for no cursor; 400 for a malformed one, 410 for one not issued to the user."""
    if not token:
        return None
    if len(token) > MAX_LENGTH:
        raise ApiError(400, "bad_cursor", "同步游标无效，请重新同步")
    raw, dot, mac = token.partition(".")
    cursor = _parse(raw)
    if not dot or not hmac.compare_digest(mac.encode(), _mac(user_id, raw).encode()):
        # Unsigned (issued before cursors were signed), signed with another secret key, or
        # issued to someone else: the phone starts afresh, as after a lost tombstone.
        raise ApiError(410, "resync_required", "同步游标已失效，需要重新完整同步")
    return cursor


def _parse(raw: str) -> Cursor:
    try:
        body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        seq, scope, shape, fresh = int(body["s"]), body.get("sc"), int(body.get("v", 1)), int(body.get("f", 0))
        if seq < 0 or (scope is not None and not isinstance(scope, dict)):
            raise ValueError
        rescope = None
        if "rs" in body:
            state = body["rs"]
            # A move begun before cursors carried `to` sends the new scope up to the cursor, as then.
            rescope = Rescope(state["p"], state["ph"], int(state["at"]), int(state.get("to", seq)))
            if not isinstance(rescope.prior, dict) or rescope.phase not in ("evict", "add", "tail") \
                    or scope is None or rescope.after < 0 or rescope.upto < seq:
                raise ValueError
        return Cursor(seq, scope, rescope, shape, fresh)
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError, UnicodeDecodeError,
            json.JSONDecodeError):
        raise ApiError(400, "bad_cursor", "同步游标无效，请重新同步") from None

