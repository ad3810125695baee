"""A faster `schema.dump` for the hot paths (a pull of thousands of records).

marshmallow's per-field `serialize` walks several accessor layers, and a `Function` field
inspects its function's signature on every call. `dumper(schema)` resolves each field's
accessor once and calls the field's own `_serialize`, so the answer is what `schema.dump`
gives; a field or schema it cannot prove equal (hooks, dotted attributes, dump defaults,
overridden `serialize`) is dumped by marshmallow itself.
"""
from collections.abc import Callable
from functools import cache

from marshmallow import Schema, fields, missing
from marshmallow.utils import get_func_args


def _field_getter(name: str, field: fields.Field, schema: Schema) -> Callable:
    def slow(obj):
        return field.serialize(name, obj, accessor=schema.get_attribute)

    attr = field.attribute or name
    if (type(field).serialize is not fields.Field.serialize or "." in attr
            or field.dump_default is not missing):
        return slow
    if type(field)._serialize is fields.Function._serialize:
        func = field.serialize_func
        if func is None or len(get_func_args(func)) != 1:
            return slow
        return func
    if type(field)._serialize is fields.Method._serialize:
        method = field._serialize_method
        return method if method is not None else slow
    serialize = _list_of_nested(field) or _list_of_strings(field) or field._serialize

    def fast(obj):
        if isinstance(obj, dict):
            value = obj.get(attr, missing)
        elif hasattr(obj, "__getitem__"):
            return slow(obj)
        else:
            value = getattr(obj, attr, missing)
        return slow(obj) if value is missing else serialize(value, attr, obj)
    return fast


def _list_of_nested(field: fields.Field) -> Callable | None:
    inner = getattr(field, "inner", None)
    if (type(field)._serialize is not fields.List._serialize or type(inner) is not fields.Nested
            or not isinstance(inner.nested, type) or inner.only or inner.exclude or inner.many):
        return None
    dump = dumper(inner.nested)

    def serialize(value, attr, obj):
        return None if value is None else [None if each is None else dump(each) for each in value]
    return serialize


def _list_of_strings(field: fields.Field) -> Callable | None:
    inner = getattr(field, "inner", None)
    if (type(field)._serialize is not fields.List._serialize
            or type(inner)._serialize is not fields.String._serialize):
        return None

    def serialize(value, attr, obj):
        if value is None:
            return None
        return [None if each is None else each.decode() if isinstance(each, bytes) else str(each)
                for each in value]
    return serialize


@cache
def _compiled(schema_cls: type[Schema]) -> Callable[[object], dict] | None:
    schema = schema_cls()
    if schema._hooks and any(schema._hooks.values()):
        return None
    getters = [(field.data_key if field.data_key is not None else name,
                _field_getter(name, field, schema)) for name, field in schema.dump_fields.items()]

    def dump(obj) -> dict:
        out = {}
        for key, get in getters:
            value = get(obj)
            if value is not missing:
                out[key] = value
        return out
    return dump


def dumper(schema_cls: type[Schema]) -> Callable[[object], dict]:
    """Return a function that dumps one object exactly as `schema_cls().dump` would."""
    compiled = _compiled(schema_cls)
    return compiled if compiled is not None else schema_cls().dump
