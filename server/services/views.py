"""Read-only views of stored records, for paths that read many and change none.

A view holds a record's columns as attributes and opens its encrypted fields on access as the
model does, without the ORM's identity map and instrumentation: a first pull reads thousands of
records only to dump them, and a push run reads each child's latest visit only to look at it.
"""
from functools import cache

from sqlalchemy import inspect, select

from ..crypto import encrypted_fields
from ..extensions import db


class View:
    """A stored record's values; never written back."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


@cache
def _view_of(model: type) -> tuple[type, tuple, tuple[str, ...]]:
    attrs = inspect(model).column_attrs
    fields = {field.name: field for field in encrypted_fields(model)}
    view = type(f"{model.__name__}View", (View,), {"__tablename__": model.__tablename__, **fields})
    return view, tuple(attr.columns[0] for attr in attrs), tuple(attr.key for attr in attrs)


def read(model: type, ids) -> list[View]:
    """Return the records of `model` with these ids as views (in no particular order)."""
    view, columns, keys = _view_of(model)
    rows = db.session.connection().execute(select(*columns).where(model.id.in_(ids)))
    return [view(dict(zip(keys, row))) for row in rows]
