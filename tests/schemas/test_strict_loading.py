"""StrictSchema loads one object its own quicker way: the same data and the same errors as
marshmallow's own `Schema._deserialize`, for valid, refused, unknown and missing fields."""
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from server.schemas.casework import VisitCreateSchema
from server.schemas.common import StrictSchema
from server.schemas.households import HouseholdCreateSchema, HouseholdUpdateSchema
from server.schemas.sync import OpSchema, PushSchema

UUID = "5d587d5c-3c95-4afe-9968-5d9f1bdbdeb6"
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=True),
                   st.sampled_from(["", " ", "例行走访", UUID, "2026-12-03T05:04:36+08:00",
                                    "2026-12-03T05:04:36", "visit", "create", "wgs84", "gcj02", "13800000000",
                                    "a" * 4001]),
                   st.lists(st.integers(0, 3), max_size=2),
                   st.dictionaries(st.sampled_from(["name", "relation", "phone", "x"]),
                                   st.sampled_from(["张三", "母亲", "13800000000", ""]), max_size=3))
CASES = [
    (VisitCreateSchema, ["id", "child_id", "visited_at", "lat", "lon", "accuracy_m", "coord_system",
                         "template_version", "answers", "notes", "follow_up", "amends", "amend_reason"]),
    (OpSchema, ["op_id", "entity", "action", "id", "base_version", "data", "cursor"]),
    (HouseholdCreateSchema, ["id", "grid_id", "address", "family_type", "guardians", "lat", "lon"]),
    (PushSchema, ["device_id", "device_time", "schema_version", "cursor", "ops"]),
]


def _outcome(schema, data, partial=None):
    try:
        return "loaded", schema.load(data, partial=partial)
    except ValidationError as error:
        return "refused", error.messages, error.valid_data


@pytest.mark.parametrize(("schema_class", "names"), CASES, ids=lambda c: getattr(c, "__name__", ""))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_strict_load_answers_as_marshmallows_own(schema_class, names, data):
    keys = st.sampled_from([*names, "unknown_field", "version"])
    value = data.draw(st.dictionaries(keys, VALUES, max_size=len(names) + 2))
    schema = schema_class()
    mine = _outcome(schema, value)
    with mock.patch.object(StrictSchema, "_deserialize", Schema._deserialize):
        assert _outcome(schema_class(), value) == mine


def test_a_list_a_partial_load_and_a_non_object_take_marshmallows_own_way():
    guardians = [{"name": "张三", "relation": "母亲"}, {"name": "", "relation": "父亲", "extra": 1}]
    with pytest.raises(ValidationError) as refused:
        HouseholdCreateSchema().load({"grid_id": "g", "address": "一组", "guardians": guardians})
    assert refused.value.messages == {"guardians": {1: {"name": ["1 到 50 个字符"], "extra": ["不允许的字段"]}}}
    assert HouseholdUpdateSchema().load({"address": "二组"}, partial=True) == {"address": "二组"}
    with pytest.raises(ValidationError) as not_object:
        OpSchema().load(["op"])
    assert not_object.value.messages == {"_schema": ["应为 JSON 对象"]}
