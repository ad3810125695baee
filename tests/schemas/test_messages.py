"""Refusals are worded in Chinese, also where a schema declares a validator without its own words."""
import importlib
import pkgutil
import re

import pytest
from marshmallow import Schema, ValidationError, fields

import server.schemas
from server.schemas.auth import LoginSchema
from server.schemas.casework import PlanCreateSchema, VisitCreateSchema

CJK = re.compile(r"[\u4e00-\u9fff]")
VISIT = {"child_id": "c", "visited_at": "2026-11-29T13:00:00+08:00"}


@pytest.mark.parametrize("schema, data, expected", [
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


def _schemas() -> list[type[Schema]]:
    """Every schema class of the server, its modules imported."""
    for module in pkgutil.iter_modules(server.schemas.__path__):
        importlib.import_module(f"server.schemas.{module.name}")
    found, todo = [], [Schema]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("server."):
            found.append(cls)
    return found


def _validator_messages(validator) -> list[str]:
    if getattr(validator, "error", None):
        return [validator.error]
    return [value for name, value in vars(type(validator)).items() | vars(validator).items()
            if (name.startswith("message_") or name == "default_message") and isinstance(value, str)]


def _load_messages(field: fields.Field, where: str):
    """Yield (where, key, message) for every message loading `field` can answer with."""
    if field.dump_only:
        return
    for key, message in field.error_messages.items():
        # "format" is a dump's failure; only the aware and naive kinds check awareness
        if key == "format" or (key == "invalid_awareness" and not isinstance(
                field, fields.AwareDateTime | fields.NaiveDateTime)):
            continue
        yield where, key, message
    for validator in field.validators:
        for message in _validator_messages(validator):
            yield where, type(validator).__name__, message
    inner = [getattr(field, "inner", None), getattr(field, "key_field", None),
             getattr(field, "value_field", None), *getattr(field, "tuple_fields", [])]
    for child in filter(None, inner):
        yield from _load_messages(child, where + "[]")
    if isinstance(field, fields.Nested):
        for name, child in field.schema.fields.items():
            yield from _load_messages(child, f"{where}.{name}")


def test_every_message_a_load_can_answer_with_is_chinese():
    # A field type or validator new to the schemas brings marshmallow's English defaults along
    # ("Not a valid utf-8 string.", "Not a valid mapping type."): they are worded centrally in
    # schemas/common.py, and this finds any left.
    english = []
    for schema in _schemas():
        instance = schema()
        english += [(where, key, message) for where, key, message in
                    [(schema.__name__, "schema", m) for m in instance.error_messages.values()]
                    + [item for name, field in instance.fields.items()
                       for item in _load_messages(field, f"{schema.__name__}.{name}")]
                    if not CJK.search(str(message))]
    assert not english, sorted(set(english))
