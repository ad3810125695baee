"""Create and manage accounts: the town admin's work, and the create-user command's."""
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Grid, Town, Unit, User, Village, new_id, place_name_key
from . import audit, changes, plans, scope
from .auth import end_all_sessions, lift_lockout, set_password
from .listing import Page, paginate

USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,64}")
USERNAME_RULE = "用户名为 3 到 64 位字母、数字或 _.-"


def unit_members(unit_id: str | None) -> set[str]:
    """Return the ids of the accounts of a unit now, paused ones too (one moved to another unit takes
    what they found with them)."""
    if unit_id is None:
        return set()
    return set(db.session.scalars(select(User.id).where(User.unit_id == unit_id)))


def unit_name(unit_id: str | None) -> str | None:
    """Return a unit's name (a school's, the police station's), or None for no unit."""
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    return unit.name if unit is not None else None


def display_names(ids) -> dict[str, str]:
    """Return the name each of these users is shown by (display name, else username), in one query
    that opens only the display names."""
    ids = {i for i in ids if i}
    rows = db.session.execute(select(User.id, User.display_name_ct, User.username)
                              .where(User.id.in_(ids))).all() if ids else []
    return {r.id: User.display_name.open("user", r.id, r.display_name_ct) or r.username for r in rows}


NEEDS = {"grid_worker": "grid_ids", "village_head": "village_id", "inspector": "unit_id",
         "police": "unit_id"}


def _by_id_or_name(model, value: str, field: str, within=None):
    """The record of this id, or else the one record of this name (`within`: a clause narrowing the
    names, as a grid's to its village's); a name two records share names neither."""
    record = db.session.get(model, value)
    if record is None:
        wanted = place_name_key(value.strip())
        named = [r for r in db.session.scalars(select(model).where(*([] if within is None else [within])))
                 if place_name_key(r.name) == wanted]
        if len(named) > 1:
            raise validation_error({field: [f"有多个“{value}”，请用编号指定"]})
        record = named[0] if named else None
    if record is None:
        raise validation_error({field: [f"找不到：{value}"]})
    return record


def _grids(user: User, values: list[str], village_given: bool) -> list[Grid]:
    """The grids named, each once, looked up by name within the village given with them, else the
    account's own (a grid in another village is named by its id, or with its village); a grid
    worker's all in one village, the one given if any."""
    within = Grid.village_id == user.village_id if user.village_id else None
    grids = list({g.id: g for g in (_by_id_or_name(Grid, v, "grid_ids", within) for v in values)}.values())
    villages = {g.village_id for g in grids}
    if user.role == "grid_worker" and (len(villages) > 1 or village_given and villages - {user.village_id}):
        raise validation_error({"grid_ids": ["网格员的网格须在同一村/社区（与所填村/社区一致）"]})
    return grids


def _apply_scope(user: User, data: dict) -> None:
    if data.get("village_id"):
        user.village_id = _by_id_or_name(Village, data["village_id"], "village_id").id
    elif "village_id" in data:
        user.village_id = None
    if "grid_ids" in data:
        user.grids = _grids(user, data["grid_ids"], bool(data.get("village_id")))
        if user.grids and user.role == "grid_worker":
            user.village_id = user.grids[0].village_id
    elif "village_id" in data and user.role == "grid_worker" \
            and any(g.village_id != user.village_id for g in user.grids):
        # The village named alone would leave the worker's grids in another village.
        raise validation_error({"village_id": ["网格员的村/社区须与其网格所在的村/社区一致"]})
    if data.get("unit_id"):
        user.unit_id = _by_id_or_name(Unit, data["unit_id"], "unit_id").id
    elif "unit_id" in data:
        user.unit_id = None
    need = NEEDS.get(user.role)
    if need == "grid_ids" and not user.grids or need and need != "grid_ids" and not getattr(user, need):
        raise validation_error({need: ["该角色必须指定管辖范围"]})


def create_user(actor, data: dict) -> User:
    """Create an account with a role and scope; the password must pass the policy, and is to be
    changed by its user when the town admin set it.

    The API and the create-user command share the username rule here. Names differing only in
    case are one name: the login throttle counts failures per name whatever its case, and a
    twin's successful login would clear the other's count.
    """
    if not USERNAME.fullmatch(data["username"]):
        raise validation_error({"username": [USERNAME_RULE]})
    if _name_taken(data["username"]):
        raise _username_taken()
    user = User(id=new_id(), username=data["username"], role=data["role"],
                town_id=db.session.scalar(select(Town.id).limit(1)))
    user.display_name = data.get("display_name") or data["username"]
    set_password(user, data["password"])
    # The town admin chose it and passes it on: its user is asked to choose their own. The
    # create-user command (no actor) sets up whoever runs it, the first town admin say.
    user.must_change_password = actor is not None
    try:
        db.session.add(user)
        _apply_scope(user, data)
        audit.record_event("user.create", actor, "user", user.id, detail={"role": user.role})
        db.session.commit()
    except IntegrityError:
        # A create that raced this one took the name between the check and the insert: the
        # unique index on lower(username) refused it. Any other refusal stays a server error.
        db.session.rollback()
        if _name_taken(data["username"]):
            raise _username_taken() from None
        raise
    return user


def _name_taken(username: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())
                             .limit(1)) is not None


def _username_taken() -> ApiError:
    return ApiError(409, "username_taken", "用户名已存在")


def update_user(actor, user_id: str, data: dict, device_id: str | None = None) -> User:
    """Change an account's name, scope or active flag; a change of either ends its sessions, and
    clears the account as helper of the open plans it no longer fits (plans.release_helper).

    Disabling does not revoke the account's phones: a revoke wipes a phone, unsynced records
    included, and an account may be disabled for a while. A worker who has left is revoked by
    device (POST /api/devices/{id}/revoke)."""
    # The lock first, then the account as committed now: a concurrent edit of it is seen whole,
    # and the scope a move records it left is the one it had.
    changes.lock_writers()
    user = db.session.get(User, user_id, populate_existing=True)
    if user is None:
        raise ApiError(404)
    db.session.expire(user, ["grids"])
    if "display_name" in data:
        user.display_name = data["display_name"]
    if "active" in data and data["active"] != user.active:
        if not data["active"] and user.id == actor.id:
            # The last town admin disabling themselves would leave no one to manage the town.
            raise ApiError(409, "own_account", "不能停用自己的账号")
        user.active = data["active"]
        end_all_sessions(user)
    detail = {"fields": sorted(data)}
    if scope.SCOPE_FIELDS & set(data):
        prior = scope.snapshot(user), user.unit_id
        _apply_scope(user, data)
        if (scope.snapshot(user), user.unit_id) == prior:
            # A form sent whole, scope as it was: no move, and the worker in the field stays logged in.
            detail["fields"] = sorted(set(data) - scope.SCOPE_FIELDS)
        else:
            end_all_sessions(user)
            # A position of its own among the changes phones pull, so every pull cursor falls
            # before or after it: what the user's phone held before it stays its own (scope.scope_at).
            detail["scope"] = {"from": prior[0], "seq": changes.reserve_seqs(db.session.connection(), 1)}
    audit.record_event("user.update", actor, "user", user.id, device_id, detail=detail)
    plans.release_helper(actor, user, device_id)
    db.session.commit()
    return user


def id_of(username: str) -> str:
    """Return the id of the account named `username` (whatever its case), or raise 404."""
    user_id = db.session.scalar(select(User.id).where(func.lower(User.username) == username.strip().lower()))
    if user_id is None:
        raise ApiError(404, message="没有这个用户名的账号")
    return user_id


def reset_password(actor, user_id: str, new_password: str, device_id: str | None = None) -> None:
    """Set the password of an account whose user forgot it; end its sessions and lift its login
    lockout. The phones it used open their data with the new one (devices.recovery_key). One's own
    is changed with the old one (auth.change_password); `actor` None is the reset-password command,
    for a town admin who forgot theirs."""
    changes.lock_writers()
    user = db.session.get(User, user_id, populate_existing=True)
    if user is None:
        raise ApiError(404)
    if actor is not None and user.id == actor.id:
        raise ApiError(409, "own_account", "请在“修改密码”中用原密码修改自己的密码")
    set_password(user, new_password, field="new_password")
    user.must_change_password = True
    end_all_sessions(user)
    lift_lockout(user.username)
    audit.record_event("user.password_reset", actor, "user", user.id, device_id)
    db.session.commit()


def list_users(args: dict) -> Page:
    """Return a page of every account, by username."""
    return paginate(select(User), args["page"], args["per_page"], [User.username, User.id])
