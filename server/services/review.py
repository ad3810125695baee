"""The village head's reviews: flagged visits (accept, or question back to the worker) and household
locations proposed from visits (confirm or reject)."""
from sqlalchemy import exists, false, select

from ..errors import ApiError, validation_error
from ..extensions import db
from ..models import Child, Grid, Household, User, Visit, stands, utcnow
from . import changes, risk, scope
from .geo import distance_m, spherical_km
from .listing import Page, paginate
from .masking import name_for
from .users import display_names
from .writes import assign, save_record

REVIEWER_ROLES = ("village_head",)
QUEUE_ROLES = ("village_head", "town_admin")
REVIEWABLE = ("pending", "questioned")


def review_queue(actor, args: dict) -> Page:
    """Return the visits awaiting review in the actor's scope (flagged ones, and corrections of
    visits under review), oldest first."""
    _require_queue(actor)
    statuses = [args["status"]] if args.get("status") else ["pending"]
    query = scope.scoped_select(actor, Visit).where(Visit.review_status.in_(statuses), *stands(Visit))
    if args.get("grid_id"):
        query = query.where(Visit.grid_id == args["grid_id"])
    page = paginate(query, args["page"], args["per_page"], [Visit.received_at, Visit.id])
    children = {c.id: c for c in db.session.scalars(
        select(Child).where(Child.id.in_({v.child_id for v in page.rows})))}
    workers = display_names(v.worker_id for v in page.rows)
    ids = [v.id for v in page.rows]
    decidable = set(db.session.scalars(awaiting_review(actor).where(Visit.id.in_(ids))
                                       .with_only_columns(Visit.id))) if ids else set()
    for visit in page.rows:
        visit.may_decide = visit.id in decidable
        child = children.get(visit.child_id)
        visit.child_name = name_for(actor, child.name) if child is not None else None
        visit.worker_name = workers.get(visit.worker_id)
    return page


def _decides(actor):
    """The flagged visits `actor` decides: the review is a second person's check on the one who
    recorded the visit, so a village head decides the others', the town office a head's own."""
    if actor.role == "village_head":
        return Visit.worker_id != actor.id
    if actor.role == "town_admin":
        return Visit.worker_id.in_(select(User.id).where(User.role == "village_head"))
    return false()


def awaiting_review(actor):
    """Return a select of the flagged visits waiting for `actor`'s decision."""
    return scope.scoped_select(actor, Visit).where(Visit.review_status == "pending", *stands(Visit),
                                                   _decides(actor))


def review_visit(actor, visit_id: str, decision: str, note: str | None,
                 device_id: str | None = None) -> Visit:
    """Accept a flagged visit, or question it with a note that goes to the worker's to-do."""
    visit = scope.get_scoped(actor, Visit, visit_id)
    if actor.role in QUEUE_ROLES and visit.worker_id == actor.id:
        raise ApiError(403, "own_record", "不能审核自己记录的走访，由镇平安办审核")
    if not db.session.scalar(select(exists().where(Visit.id == visit.id, _decides(actor)))):
        raise ApiError(403, "review_not_allowed", "只有村/社区负责人审核走访记录（负责人本人的由镇平安办审核）")
    # Under the lock, as read now: a second reviewer, or an amendment filed at the same moment,
    # is seen rather than overwritten.
    changes.lock_writers()
    db.session.refresh(visit)
    if visit.review_status not in REVIEWABLE:
        raise ApiError(409, "not_reviewable", "该走访记录不在待审核状态")
    if db.session.scalar(select(exists().where(Visit.amends_id == visit.id))):
        raise ApiError(409, "not_reviewable", "该走访记录已被更正，请审核更正后的记录")
    if decision == "question" and not (note or "").strip():
        raise validation_error({"note": ["请写明存疑的原因"]})
    status = "accepted" if decision == "accept" else "questioned"
    changed = assign(visit, {"review_status": status, "reviewed_by": actor.id, "reviewed_at": utcnow()})
    visit.review_note = note or None
    save_record(actor, "visit", visit, "update", changed + ["review_note"], device_id)
    if status == "accepted" and visit.child_id:
        risk.refresh_child(actor, db.session.get(Child, visit.child_id), device_id)
    db.session.commit()
    return visit


def _require_queue(actor) -> None:
    if actor.role not in QUEUE_ROLES:
        raise ApiError(403, "review_not_allowed", "只有村/社区负责人和镇平安办查看待审核事项")


def location_pending(actor):
    """Return a select of the households in scope whose proposed location awaits the village head."""
    return scope.scoped_select(actor, Household).where(Household.proposed_location_ct.is_not(None))


def location_queue(actor, args: dict) -> Page:
    """Return the households with a proposed location in the actor's scope, longest waiting first."""
    _require_queue(actor)
    query = location_pending(actor)
    if args.get("grid_id"):
        query = query.where(Household.grid_id == args["grid_id"])
    page = paginate(query, args["page"], args["per_page"], [Household.updated_at, Household.id])
    workers = display_names((h.proposed_location or {}).get("worker_id") for h in page.rows)
    grids = dict(db.session.execute(
        select(Grid.id, Grid.name).where(Grid.id.in_({h.grid_id for h in page.rows}))).all())
    located = _located_homes({h.village_id for h in page.rows})
    for household in page.rows:
        household.worker_name = workers.get((household.proposed_location or {}).get("worker_id"))
        household.grid_name = grids.get(household.grid_id)
        household.nearest = _nearest(household, located.get(household.village_id, []))
    return page


def _located_homes(village_ids: set[str]) -> dict[str, list[tuple[Household, tuple[float, float]]]]:
    """The households of these villages that have a location, with it, by village."""
    homes: dict[str, list] = {}
    rows = db.session.scalars(select(Household).where(
        Household.village_id.in_(village_ids), Household.location_ct.is_not(None),
        Household.deleted_at.is_(None))) if village_ids else []
    for home in rows:
        homes.setdefault(home.village_id, []).append((home, (home.location["lat"], home.location["lon"])))
    return homes


def _nearest(household: Household, located: list) -> dict | None:
    """The located household of the village nearest the proposed location, and how far: a head
    cannot judge bare coordinates, but one proposed kilometres from every neighbour stands out."""
    proposal = household.proposed_location or {}
    if proposal.get("lat") is None or not located:
        return None
    point = (proposal["lat"], proposal["lon"])
    home, where = min(located, key=lambda pair: spherical_km(point, pair[1]))
    return {"distance_m": round(distance_m(point, where)), "address": home.address, "household_id": home.id}


def review_location(actor, household_id: str, decision: str, visit_id: str,
                    device_id: str | None = None) -> Household:
    """Confirm a household's proposed location (it becomes the household's), or reject it: the one
    proposed by `visit_id`, the proposal the head saw, and not another that replaced it since."""
    household = scope.get_scoped(actor, Household, household_id)
    if actor.role not in REVIEWER_ROLES:
        raise ApiError(403, "review_not_allowed", "只有村/社区负责人确认住户位置")
    # Under the lock, as read now: a correction of the proposing visit filed at the same moment
    # is seen rather than confirmed unseen.
    changes.lock_writers()
    db.session.refresh(household)
    proposal = household.proposed_location
    if proposal is None:
        raise ApiError(409, "not_pending", "该户没有待确认的位置（可能已被他人处理），请刷新")
    if proposal.get("visit_id") != visit_id:
        raise ApiError(409, "proposal_changed", "该户的建议位置已更新，请刷新后重新确认")
    values = {"proposed_location": None}
    if decision == "confirm":
        values["location"] = {"lat": proposal["lat"], "lon": proposal["lon"]}
    save_record(actor, "household", household, "update", assign(household, values), device_id)
    db.session.commit()
    return household
