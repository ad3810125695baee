"""Refusals are worded in Chinese, also where a schema declares a validator without its own words."""
import re

import pytest
from marshmallow import ValidationError

from server.schemas.auth import LoginSchema
from server.schemas.casework import PlanCreateSchema, VisitCreateSchema
from server.schemas.sync import PushSchema

VISIT = {"child_id": "c", "visited_at": "2026-11-29T13:00:00+08:00"}


@pytest.mark.parametrize("schema, data, expected", [
    (PushSchema, {"device_id": "short", "ops": []}, {"device_id": ["8 到 64 个字符"]}),
    (LoginSchema, {"username": "", "password": "x" * 300},
     {"username": ["1 到 64 个字符"], "password": ["1 到 256 个字符"]}),
    (VisitCreateSchema, {**VISIT, "accuracy_m": -1}, {"accuracy_m": ["应不小于 0 且不大于 100000"]}),
    (VisitCreateSchema, {**VISIT, "answers": ["guardian_present"]}, {"answers": ["应为对象"]}),
    (PlanCreateSchema, {"child_id": "c", "review_every_days": 0},
     {"review_every_days": ["应不小于 1 且不大于 365"]}),
])
def test_validators_without_their_own_message_refuse_in_chinese(schema, data, expected):
    with pytest.raises(ValidationError) as caught:
        schema().load(data)
    assert caught.value.messages == expected
    words = re.findall(r"[A-Za-z]{3,}", " ".join(m for ms in caught.value.messages.values() for m in ms))
    assert not words, words
