"""The children's ledger (重点未成年人台账): one row per child in scope, filtered and searched."""
from datetime import date, datetime

from sqlalchemy import func, select

from ...extensions import db
from ...models import Child, Grid, Household, Plan, Village, Visit, stands
from .. import risk, schedule, scope
from ..masking import mask_name, mask_phone, masks_names
from ..users import display_names
from . import base
from .base import Column, Ledger
from .search import name_search

COLUMNS = [Column("seq", "序号", 6), Column("name", "姓名", 10), Column("sex", "性别", 6),
           Column("age", "年龄", 6), Column("categories", "类别", 16), Column("guardian", "监护人", 16),
           Column("phone", "联系电话", 14), Column("grid", "网格", 12), Column("risk_level", "风险等级", 9),
           Column("helper", "帮扶责任人", 11), Column("last_visit", "最近走访", 12),
           Column("visits_this_year", "本年走访次数", 12), Column("next_visit", "下次走访", 12),
           Column("status", "状态", 14)]
FILTERS = {"village_id", "grid_id", "category", "risk_level", "overdue", "follow_up", "q"}
CHUNK = 2000


def _filtered(actor, args: dict, today: date):
    query = base.child_where(base.place_where(scope.scoped_select(actor, Child), Child, args), args)
    if args.get("overdue"):
        query = query.where(schedule.overdue_condition(today))
    if args.get("follow_up"):
        query = query.where(risk.follow_up_condition())
    return query


def _order_key(rank: dict[str, int]):
    """Order rows by village and grid name, then household, birth year and id (sorted here, not in SQL)."""
    return lambda r: (rank.get(r.grid_id, len(rank)), r.household_id, r.birth_year or 0, r.id)


def _grid_rank() -> dict[str, int]:
    rows = _fetch(select(Grid.id).join(Village, Village.id == Grid.village_id)
                  .order_by(Village.name, Grid.name, Grid.id))
    return {row.id: n for n, row in enumerate(rows)}


def _full(query):
    return query.with_only_columns(
        Child.id, Child.name_ct, Child.sex, Child.birth_date_ct, Child.birth_year, Child.categories,
        Child.grid_id, Child.risk_level, Child.last_visit_at, Child.next_visit_due, Child.status,
        Child.registered_at, Child.household_id, Household.guardians_ct,
    ).join(Household, Household.id == Child.household_id)


def _narrow(query, *extra):
    return query.with_only_columns(Child.id, Child.grid_id, Child.household_id, Child.birth_year, *extra)


def _fetch(statement) -> list:
    # Core execution: plain rows without the ORM's per-row loading work.
    return db.session.connection().execute(statement).all()


def _rows_by_id(query, ids: list[str]) -> list:
    found = {}
    for chunk in _chunks(ids):
        found.update((r.id, r) for r in _fetch(_full(query).where(Child.id.in_(chunk))))
    return [found[i] for i in ids]


def _page_ids(query, rank: dict, offset: int, limit: int) -> tuple[list[str], int]:
    """Walk the grids in name order, counting, and read only the grids the page falls in."""
    counts = dict(_fetch(query.with_only_columns(Child.grid_id, func.count()).group_by(Child.grid_id)))
    ids, skip = [], offset
    for grid_id in sorted(counts, key=lambda g: rank.get(g, len(rank))):
        if skip >= counts[grid_id]:
            skip -= counts[grid_id]
            continue
        rows = sorted(_fetch(_narrow(query).where(Child.grid_id == grid_id)), key=_order_key(rank))
        ids += [r.id for r in rows[skip:skip + limit - len(ids)]]
        skip = 0
        if len(ids) >= limit:
            break
    return ids, sum(counts.values())


def _select_rows(actor, args: dict, today: date, paged: bool, unmasked: bool) -> tuple[list, int, int]:
    """Pick the page's ids on narrow rows first, then read the full rows of those ids only."""
    query, rank = _filtered(actor, args, today), _grid_rank()
    offset = (args["page"] - 1) * args["per_page"] if paged else 0
    if matches := name_search(actor, args, unmasked):
        found = sorted((r for r in _fetch(_narrow(query, Child.name_ct))
                        if matches(Child.name.open("child", r.id, r.name_ct))),
                       key=_order_key(rank))
        ids = [r.id for r in found]
        return _rows_by_id(query, ids[offset:offset + args["per_page"]] if paged else ids), len(ids), offset
    if not paged:
        return sorted(_fetch(_full(query)), key=_order_key(rank)), 0, 0
    ids, total = _page_ids(query, rank, offset, args["per_page"])
    return _rows_by_id(query, ids), total, offset


def _chunks(ids: list[str]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _helpers(child_ids: list[str]) -> dict[str, str]:
    found = {}
    for chunk in _chunks(child_ids):
        found.update(db.session.execute(
            select(Plan.child_id, Plan.helper_id).where(
                Plan.child_id.in_(chunk), Plan.status.in_(("draft", "active")), Plan.deleted_at.is_(None))
            .order_by(Plan.status.desc())).all())
    names = display_names(found.values())
    return {child: names.get(helper, "") for child, helper in found.items()}


def _visits_this_year(child_ids: list[str], today: date) -> dict[str, int]:
    start = datetime(today.year, 1, 1, tzinfo=schedule.local_zone())
    counts = {}
    for chunk in _chunks(child_ids):
        counts.update(db.session.execute(
            select(Visit.child_id, func.count()).where(
                Visit.child_id.in_(chunk), Visit.counted_at >= start, *stands(Visit))
            .group_by(Visit.child_id)).all())
    return counts


def _age(birth: date | None, birth_year: int | None, today: date):
    if birth is not None:
        return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return today.year - birth_year if birth_year else ""


def _overdue(row, today: date) -> bool:
    due = schedule.visit_due(row)
    return row.status == "active" and due is not None and due < today


def _row(r, seq: int, today: date, view: dict, helpers: dict, visits: dict) -> dict:
    name = Child.name.open("child", r.id, r.name_ct)
    birth = Child.birth_date.open("child", r.id, r.birth_date_ct)
    guardians = Household.guardians.open("household", r.household_id, r.guardians_ct) or []
    first = guardians[0] if guardians else {}
    guardian = (mask_name(first.get("name")) if view["names"] else first.get("name")) or ""
    if guardian and first.get("relation"):
        guardian = f"{guardian}（{first['relation']}）"
    overdue = _overdue(r, today)
    return {"seq": seq, "id": r.id, "name": mask_name(name) if view["names"] else name,
            "sex": base.SEX.get(r.sex, ""),
            "age": _age(birth, r.birth_year, today),
            "categories": "、".join(base.CATEGORIES.get(c, c) for c in r.categories or []),
            "guardian": guardian,
            "phone": (mask_phone(first.get("phone")) if view["phones"] else first.get("phone")) or "",
            "grid": view["grids"].get(r.grid_id, ""),
            "risk_level": base.RISK.get(r.risk_level, ""), "risk_code": r.risk_level,
            "helper": helpers.get(r.id, ""), "last_visit": base.day(schedule.local_date(r.last_visit_at)),
            "visits_this_year": visits.get(r.id, 0), "next_visit": base.day(schedule.visit_due(r)),
            "status": base.CHILD_STATUS.get(r.status, r.status) + ("·走访逾期" if overdue else ""),
            "overdue": overdue}


def build_children_ledger(actor, args: dict, paged: bool = True, unmasked: bool = False) -> Ledger:
    """Build the children's ledger page (or every row, for an export) in the actor's scope."""
    base.require_readable(actor, Child)
    base.check_filters(args, FILTERS)
    today = schedule.local_today()
    rows, total, offset = _select_rows(actor, args, today, paged, unmasked)
    ids = [r.id for r in rows]
    helpers, visits = _helpers(ids), _visits_this_year(ids, today)
    view = {"names": (masks_names(actor) or not paged) and not unmasked, "phones": not unmasked,
            "grids": base.grid_names()}
    built = [_row(r, offset + i + 1, today, view, helpers, visits) for i, r in enumerate(rows)]
    return Ledger("children", base.title_of(actor, "children", args), COLUMNS, built,
                  total if paged else len(built), args.get("page", 1) if paged else 1,
                  args.get("per_page", 0) if paged else len(built))
