"""The venue ledger (重点场所台账) and the inspection and rectification ledger (检查及整改台账)."""
from datetime import date

from sqlalchemy import select

from ...extensions import db
from ...models import VENUE_TYPES, Inspection, Venue, stands
from .. import checklists, enforcement, schedule, scope
from ..masking import mask_name, mask_phone
from ..ordering import natural_key
from ..users import display_names
from . import base
from .base import Column, Ledger

VENUE_COLUMNS = [Column("seq", "序号", 6), Column("name", "场所名称", 22), Column("type", "类型", 10),
                 Column("village", "村/社区", 12), Column("address", "地址", 26),
                 Column("licence_no", "许可证号", 16),
                 Column("contact", "联系人", 10), Column("phone", "联系电话", 14), Column("status", "状态", 8),
                 Column("last_inspected", "最近检查", 12), Column("open_items", "未整改问题", 10),
                 Column("overdue_items", "逾期未整改", 10)]
INSPECTION_COLUMNS = [Column("seq", "序号", 6), Column("inspected_at", "检查时间", 17),
                      Column("venue", "场所名称", 22), Column("type", "类型", 10),
                      Column("village", "村/社区", 12),
                      Column("inspector", "检查人", 10), Column("items", "检查项数", 9),
                      Column("failed", "不合格项", 36), Column("deadline", "整改期限", 12),
                      Column("rectification", "整改情况", 14), Column("flags", "核验标记", 14)]
FILTERS = {"village_id", "overdue", "q"}
FLAGS = {"location_mismatch": "位置不符", "no_location": "无定位", "clock_skew": "时钟偏差",
         "future_time": "时间超前", "late_entry": "补录", "impossible_travel": "轨迹异常"}


def _page(rows: list, args: dict, paged: bool) -> tuple[list, int]:
    if not paged:
        return rows, 0
    offset = (args["page"] - 1) * args["per_page"]
    return rows[offset:offset + args["per_page"]], offset


def _venue_row(seq: int, v: Venue, villages: dict, open_items: list[dict], mask: bool) -> dict:
    return {"seq": seq, "id": v.id, "name": v.name, "type": base.VENUE_TYPES.get(v.type, v.type),
            "village": villages.get(v.village_id, ""), "address": v.address or "",
            "licence_no": v.licence_no or "",
            "contact": (mask_name(v.contact_name) if mask else v.contact_name) or "",
            "phone": (mask_phone(v.contact_phone) if mask else v.contact_phone) or "",
            "status": "营业" if v.status == "open" else "停业",
            "last_inspected": base.day(schedule.local_date(v.last_inspected_at)),
            "open_items": len(open_items), "overdue_items": sum(1 for i in open_items if i["overdue"])}


_KIND_ORDER = {kind: i for i, kind in enumerate(VENUE_TYPES)}


def _venue_order(v: Venue, villages: dict) -> tuple:
    """By kind in the campaign's order (旅馆酒店 first), then village, then name as people count."""
    return (_KIND_ORDER.get(v.type, len(_KIND_ORDER)), natural_key(villages.get(v.village_id)),
            natural_key(v.name), v.id)


def build_venues_ledger(actor, args: dict, paged: bool = True, unmasked: bool = False) -> Ledger:
    """Build the venue ledger in the actor's scope, with open and overdue rectifications."""
    base.require_readable(actor, Venue)
    base.check_filters(args, FILTERS)
    today = schedule.local_today()
    query = base.place_where(scope.scoped_select(actor, Venue), Venue, args)
    villages = base.village_names()
    venues = sorted((v for v in db.session.scalars(query) if not args.get("q") or args["q"].strip() in v.name),
                    key=lambda v: _venue_order(v, villages))
    open_items: dict[str, list[dict]] = {}
    for item in enforcement.open_violations(actor, today):
        open_items.setdefault(item["venue_id"], []).append(item)
    if args.get("overdue"):
        venues = [v for v in venues if any(i["overdue"] for i in open_items.get(v.id, []))]
    page, offset = _page(venues, args, paged)
    mask = not unmasked
    rows = [_venue_row(offset + i + 1, v, villages, open_items.get(v.id, []), mask)
            for i, v in enumerate(page)]
    return Ledger("venues", base.title_of(actor, "venues", args), VENUE_COLUMNS, rows, len(venues),
                  args.get("page", 1), args.get("per_page", len(rows)))




def _rectification_states(actor, today: date) -> dict:
    """Return the open violations by inspection, and the failures carried forward or rectified."""
    violations, rectified = enforcement.rectification_states(actor, today)
    open_items: dict[str, list[dict]] = {}
    for violation in violations:
        open_items.setdefault(violation["inspection_id"], []).append(violation)
    # A failure a re-inspection found again is open there, not where it was first found.
    carried = {(earlier, v["item"]) for v in violations for earlier in v["failed_at"][:-1]}
    return {"open": open_items, "carried": carried, "rectified": rectified}


def _rectification(inspection: Inspection, venue: Venue, states: dict) -> str:
    failed = {(inspection.id, r["item"]) for r in inspection.results or [] if r["result"] == "fail"}
    if not failed:
        return "无需整改"
    if open_items := states["open"].get(inspection.id):
        return "逾期未整改" if any(i["overdue"] for i in open_items) else f"整改中（{len(open_items)}项）"
    if failed & states["carried"]:
        return "复查未通过，整改中"
    if failed <= states["rectified"]:
        return "已整改"
    return "场所已删除，未整改" if venue.deleted_at else "未整改"


def _inspection_row(seq: int, inspection: Inspection, venue: Venue, states: dict, names: dict) -> dict:
    failed = [r for r in inspection.results or [] if r["result"] == "fail"]
    template_key = inspection.template_key or checklists.template_for_venue_type(venue.type)["key"]
    labels = checklists.item_labels(template_key, inspection.template_version)
    deadlines = sorted(r["deadline"] for r in failed if r.get("deadline"))
    at = inspection.inspected_at.astimezone(schedule.local_zone())
    return {"seq": seq, "id": inspection.id, "inspected_at": at.strftime("%Y-%m-%d %H:%M"),
            "venue": venue.name, "type": base.VENUE_TYPES.get(venue.type, venue.type),
            "village": names["villages"].get(inspection.village_id, ""),
            "inspector": names["inspectors"].get(inspection.inspector_id, ""),
            "items": len(inspection.results or []),
            "failed": "；".join(labels.get(r["item"], r["item"]) for r in failed),
            "deadline": deadlines[0] if deadlines else "",
            "rectification": _rectification(inspection, venue, states),
            "flags": "、".join(FLAGS.get(f, f) for f in inspection.flags or [])}


def build_inspections_ledger(actor, args: dict, paged: bool = True, unmasked: bool = False) -> Ledger:
    """Build the inspection ledger in the actor's scope, newest first, with rectification state."""
    base.require_readable(actor, Inspection)
    base.check_filters(args, FILTERS)
    today = schedule.local_today()
    # A corrected inspection is shown as its correction.
    standing = scope.scoped_select(actor, Inspection).where(*stands(Inspection))
    query = base.place_where(standing, Inspection, args)
    inspections = list(db.session.scalars(query.order_by(Inspection.inspected_at.desc(), Inspection.id)))
    venues = {v.id: v for v in db.session.scalars(
        select(Venue).where(Venue.id.in_({i.venue_id for i in inspections})))} if inspections else {}
    if args.get("q"):
        inspections = [i for i in inspections if args["q"].strip() in venues[i.venue_id].name]
    states = _rectification_states(actor, today)
    if args.get("overdue"):
        inspections = [i for i in inspections if any(v["overdue"] for v in states["open"].get(i.id, []))]
    page, offset = _page(inspections, args, paged)
    names = {"villages": base.village_names(), "inspectors": display_names(i.inspector_id for i in page)}
    rows = [_inspection_row(offset + n + 1, i, venues[i.venue_id], states, names)
            for n, i in enumerate(page)]
    return Ledger("inspections", base.title_of(actor, "inspections", args), INSPECTION_COLUMNS, rows,
                  len(inspections), args.get("page", 1), args.get("per_page", len(rows)))
