"""What every ledger shares: columns, the page it answers, its title, labels and decryption."""
from dataclasses import dataclass, field

from sqlalchemy import String, select

from ...errors import ApiError, validation_error
from ...extensions import db
from ...models import Child, Grid, Town, Village
from .. import scope
from ..schedule import local_today

SEX = {"F": "女", "M": "男"}
CATEGORIES = {"left_behind": "留守", "migrant": "流动", "disadvantaged": "困境", "disabled": "残疾",
              "single_parent": "单亲", "reconstituted": "重组", "troubled_family": "关系异常"}
RISK = {"high": "高", "medium": "中", "low": "低"}
CHILD_STATUS = {"active": "在册", "moved_out": "迁出", "aged_out": "已满18周岁"}
VENUE_TYPES = {"hotel": "旅馆酒店", "esports_hotel": "电竞酒店", "cinema": "点播影院", "internet_cafe": "网吧",
               "bar": "酒吧", "ktv": "KTV", "other": "其他"}
PLAN_STATUS = {"draft": "待审批", "active": "执行中", "closed": "已结案"}
TITLES = {"children": "重点未成年人台账", "venues": "重点场所台账", "inspections": "场所检查及整改台账",
          "plans": "一对一帮扶台账", "staff_checks": "从业人员查询台账"}


@dataclass(frozen=True)
class Column:
    """One ledger column: its key in JSON rows, its Chinese header and its Excel width."""

    key: str
    label: str
    width: int = 12


@dataclass
class Ledger:
    """A built ledger: title, columns, the rows of this page (all rows for an export), the total."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 0


def check_filters(args: dict, supported: set[str]) -> None:
    """Refuse a filter the ledger does not have."""
    extra = [k for k in ("village_id", "grid_id", "category", "risk_level", "overdue", "follow_up", "q")
             if args.get(k) not in (None, "", False) and k not in supported]
    if extra:
        raise validation_error({k: ["该台账不支持此筛选条件"] for k in extra})


def require_readable(actor, model) -> None:
    """Answer 404 to a role that may not read the ledger's records at all."""
    if not scope.can_read(actor, model):
        raise ApiError(404)


def place_where(query, model, args: dict):
    """Apply the village and grid filters (scope is applied by the caller's scoped select)."""
    if args.get("village_id"):
        query = query.where(model.village_id == args["village_id"])
    if args.get("grid_id") and hasattr(model, "grid_id"):
        query = query.where(model.grid_id == args["grid_id"])
    return query


def child_where(query, args: dict):
    """Apply the category and risk-level filters on the child (of a child's or a plan's row)."""
    if args.get("category"):
        query = query.where(Child.categories.cast(String).like(f'%"{args["category"]}"%'))
    if args.get("risk_level"):
        query = query.where(Child.risk_level == args["risk_level"])
    return query


def title_of(actor, name: str, args: dict) -> str:
    """Return a title like 治河渡村重点未成年人台账（截至 2024-03-31）."""
    village_id = args.get("village_id") or (actor.village_id if actor.role == "village_head" else None)
    if not village_id and args.get("grid_id"):
        village_id = db.session.scalar(select(Grid.village_id).where(Grid.id == args["grid_id"]))
    if not village_id and actor.role == "grid_worker" and actor.grids:
        village_id = actor.grids[0].village_id
    place = db.session.scalar(select(Village.name).where(Village.id == village_id)) if village_id else None
    if place is None:
        place = db.session.scalar(select(Town.name).where(Town.id == actor.town_id)) or ""
    return f"{place}{TITLES[name]}（截至 {local_today().isoformat()}）"


def grid_names() -> dict[str, str]:
    """Return every grid's name by id."""
    return dict(db.session.execute(select(Grid.id, Grid.name)).all())


def village_names() -> dict[str, str]:
    """Return every village's name by id."""
    return dict(db.session.execute(select(Village.id, Village.name)).all())


def day(value) -> str:
    """Return a date as YYYY-MM-DD, or an empty string."""
    return value.isoformat() if value else ""
