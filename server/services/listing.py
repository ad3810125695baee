"""Page through a scoped query with filters."""
from dataclasses import dataclass

from sqlalchemy import func, select

from ..errors import validation_error
from ..extensions import db
from . import scope


@dataclass
class Page:
    """One page of rows and the total."""

    rows: list
    total: int
    page: int
    per_page: int


def paginate(query, page: int, per_page: int, order_by) -> Page:
    """Return one page of `query`, ordered, with the total count."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(
        query.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows=list(rows), total=total or 0, page=page, per_page=per_page)


def page_of(rows: list, page: int, per_page: int) -> Page:
    """Return one page of rows already built and ordered in memory (computed lists)."""
    start = (page - 1) * per_page
    return Page(rows=rows[start:start + per_page], total=len(rows), page=page, per_page=per_page)


def list_records(actor, model, args: dict, filters: dict | None = None) -> Page:
    """List `model` in the actor's scope, filtered by equality on the given args."""
    query = scope.scoped_select(actor, model)
    for name, value in args.items():
        if name in ("page", "per_page"):
            continue
        handler = (filters or {}).get(name)
        if handler is None and not hasattr(model, name):
            raise validation_error({name: ["该列表不支持此筛选条件"]})
        query = handler(query, value) if handler else query.where(getattr(model, name) == value)
    order = [getattr(model, "created_at", model.id), model.id]
    return paginate(query, args["page"], args["per_page"], order)
