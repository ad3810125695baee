"""The compiled dumper answers exactly what marshmallow's dump answers, or leaves it to marshmallow."""
from datetime import UTC, date, datetime
from types import SimpleNamespace

from marshmallow import Schema, fields, post_dump

from server.schemas.dumping import dumper


class Inner(Schema):
    code = fields.String()
    count = fields.Integer()


class Outer(Schema):
    id = fields.String()
    at = fields.DateTime()
    day = fields.Date()
    ratio = fields.Float()
    ok = fields.Boolean()
    tags = fields.List(fields.String())
    extra = fields.Dict()
    renamed = fields.String(attribute="original", data_key="shown")
    computed = fields.Function(lambda o: (o["id"] if isinstance(o, dict) else o.id).upper())
    method = fields.Method("twice")
    nested = fields.List(fields.Nested(Inner))
    dotted = fields.String(attribute="extra.k")
    defaulted = fields.String(dump_default="默认")

    def twice(self, obj):
        return 2 * ((obj["ratio"] if isinstance(obj, dict) else obj.ratio) or 0)


class Hooked(Schema):
    id = fields.String()

    @post_dump
    def mark(self, data, **kwargs):
        return {**data, "hooked": True}


def sample(**overrides):
    values = {"id": "r1", "at": datetime(2026, 11, 28, 9, 30, tzinfo=UTC), "day": date(2026, 11, 28),
              "ratio": 1.5, "ok": 1, "tags": ["a", 2, None, "甲".encode()], "extra": {"k": "v"},
              "original": "原", "nested": [{"code": "x", "count": "3"}, None]}
    values.update(overrides)
    return SimpleNamespace(**values)


def test_objects_dicts_and_none_values_dump_as_marshmallow_does():
    empty = sample(at=None, day=None, ratio=None, ok=None, tags=None, extra=None, nested=None)
    for obj in (sample(), empty, vars(sample()), vars(empty)):
        assert dumper(Outer)(obj) == Outer().dump(obj)
    assert dumper(Outer)(sample())["shown"] == "原"
    assert dumper(Outer)(sample())["nested"] == [{"code": "x", "count": 3}, None]
    assert dumper(Outer)(sample())["defaulted"] == "默认"


def test_a_missing_attribute_is_left_out_like_marshmallow():
    obj = sample()
    del obj.tags
    assert "tags" not in dumper(Outer)(obj)
    assert dumper(Outer)(obj) == Outer().dump(obj)


def test_a_schema_with_hooks_is_dumped_by_marshmallow():
    assert dumper(Hooked)(SimpleNamespace(id="h")) == {"id": "h", "hooked": True}
