"""Shared schema pieces: strict loading, record metadata, paging, Chinese messages."""
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, validate
from marshmallow.utils import missing, set_value
from sqlalchemy import Boolean, Date, Integer, String

fields.Field.default_error_messages.update({
    "required": "必填项",
    "null": "不能为空",
    "validator_failed": "取值无效",
})
fields.String.default_error_messages.update({"invalid": "应为文本", "invalid_utf8": "应为 UTF-8 文本"})
fields.Integer.default_error_messages.update({"invalid": "应为整数"})
fields.Float.default_error_messages.update({"invalid": "应为数字", "special": "应为有限数字"})
fields.Boolean.default_error_messages.update({"invalid": "应为真或假"})
fields.UUID.default_error_messages.update({"invalid_uuid": "应为 UUID"})
fields.Date.default_error_messages.update({"invalid": "日期格式应为 YYYY-MM-DD"})
fields.DateTime.default_error_messages.update({"invalid": "时间格式应为 ISO 8601（含时区）"})
fields.List.default_error_messages.update({"invalid": "应为列表"})
fields.Nested.default_error_messages.update({"type": "应为对象"})
fields.Mapping.default_error_messages.update({"invalid": "应为对象"})
fields.Number.default_error_messages.update({"too_large": "数值过大"})
# Validators declared without their own message answer in Chinese too.
validate.Length.message_min = "至少 {min} 个字符"
validate.Length.message_max = "最多 {max} 个字符"
validate.Length.message_all = "{min} 到 {max} 个字符"
validate.Length.message_equal = "应为 {equal} 个字符"
validate.Range.message_min = "应{min_op} {{min}}"
validate.Range.message_max = "应{max_op} {{max}}"
validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
validate.Range.message_gte, validate.Range.message_gt = "不小于", "大于"
validate.Range.message_lte, validate.Range.message_lt = "不大于", "小于"
validate.Regexp.default_message = "格式不正确"
validate.OneOf.default_message = "取值无效，可选：{choices}"  # never the input: it may be personal
Schema.error_messages = {"unknown": "不允许的字段", "type": "应为 JSON 对象"}


_validate_with_validators = fields.Field._validate


def _validate(self, value) -> None:
    # marshmallow 3.26 builds an `And` of a field's validators for every value it loads, also of
    # none: a pushed visit loads about twenty values.
    if self.validators:
        _validate_with_validators(self, value)


fields.Field._validate = _validate


class StrictSchema(Schema):
    """A load schema that refuses unknown and server-owned fields."""

    class Meta:
        unknown = RAISE

    def _deserialize(self, data, *, error_store, many=False, partial=None, unknown=RAISE, index=None):
        """Load one object as marshmallow 3.26's `Schema._deserialize` does (pinned, requirements.txt),
        without the closure, keyword dict and call it makes for each field: a third of the load of a
        pushed visit. A list, a partial load or a value that is not an object takes marshmallow's own."""
        if many or partial is not None or not isinstance(data, Mapping):
            return super()._deserialize(data, error_store=error_store, many=many, partial=partial,
                                        unknown=unknown, index=index)
        index = index if self.opts.index_errors else None
        plan, known = self._load_plan()
        loaded = self.dict_class()
        for name, field, key in plan:
            try:
                value = field.deserialize(data.get(name, missing), name, data)
            except ValidationError as error:
                error_store.store_error(error.messages, name, index=index)
                value = error.valid_data or missing
            if value is not missing:
                set_value(loaded, key, value)
        if unknown != EXCLUDE:
            for name in set(data) - known:
                if unknown == INCLUDE:
                    loaded[name] = data[name]
                elif unknown == RAISE:
                    error_store.store_error([self.error_messages["unknown"]], name, index)
        return loaded

    def _load_plan(self) -> tuple[tuple, frozenset]:
        """Each loaded field's input name, field and output key; the input names (kept per schema)."""
        cached = self.__dict__.get("_plan")
        if cached is None or cached[0] is not self.load_fields:
            names = [(field.data_key if field.data_key is not None else attr, field, field.attribute or attr)
                     for attr, field in self.load_fields.items()]
            cached = self._plan = (self.load_fields, tuple(names), frozenset(n for n, _, _ in names))
        return cached[1], cached[2]


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Uuid(fields.UUID):
    """A UUID, loaded as its canonical text: ids are stored, compared and answered as text.

    Text already canonical (what the phone sends, three times an op) is its own answer; any other
    form goes through `uuid.UUID`, which also takes braces, capitals and no hyphens.
    """

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
            return value
        return str(super()._deserialize(value, attr, data, **kwargs))


_LOCAL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?"
ISO_MOMENT = re.compile(_LOCAL_TIME + r"(Z|[+-][0-9]{2}:[0-9]{2})")
LOCAL_TIME = re.compile(_LOCAL_TIME)


class Aware(fields.AwareDateTime):
    """An ISO 8601 time with its UTC offset (2026-11-29T09:30:00+08:00); a time without one is
    refused, not guessed.

    The shape is checked first (`datetime.fromisoformat` also takes week dates, any separator and
    odd offsets), then parsed by `fromisoformat`: a twentieth of marshmallow's pattern matching,
    and a push reads one a visit.
    """

    default_error_messages = {"invalid": "时间格式应为 ISO 8601（含时区）",
                              "invalid_awareness": "时间须带时区（如 +08:00）",
                              "out_of_range": "时间超出范围（1900 至 2100 年）"}

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if not ISO_MOMENT.fullmatch(value):
            raise self.make_error("invalid_awareness" if LOCAL_TIME.fullmatch(value) else "invalid")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None
        # Far enough from year 1 and 9999 that storing it in UTC cannot overflow.
        if not 1900 <= moment.year <= 2100:
            raise self.make_error("out_of_range")
        return moment


class Number(fields.Float):
    """A JSON number: a numeric string ("29.1") or a boolean is refused, not coerced."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._validated(value)


class RecordSchema(Schema):
    """Fields every record answer carries."""

    id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PageQuerySchema(StrictSchema):
    """page and per_page (at most 500)."""

    page = fields.Integer(load_default=1, validate=validate.Range(
        min=1, max=1_000_000, error="页码应在 1 到 1000000 之间"))
    per_page = fields.Integer(load_default=50,
                              validate=validate.Range(min=1, max=500, error="每页 1 到 500 条"))


def _not_blank(value: str) -> None:
    # An empty value is the Length validator's to refuse.
    if value and not value.strip():
        raise ValidationError("不能只有空白")


def _length(max_length: int, min_length: int) -> list[validate.Validator]:
    # Worded by the Length defaults above: "最多 N 个字符", or "M 到 N 个字符" with a minimum; text
    # that must be there must be more than blanks.
    length = validate.Length(min=min_length or None, max=max_length)
    return [length, _not_blank] if min_length else [length]


def Text(max_length: int, min_length: int = 0, **kwargs) -> fields.String:
    """Return a String field of at most `max_length` (and at least `min_length`) characters."""
    return fields.String(validate=_length(max_length, min_length), **kwargs)


def written_reason(value: str | None) -> bool:
    """Say whether a reason for an audited step is written: 4 to 500 characters besides the blanks
    around them (four spaces are no reason)."""
    return isinstance(value, str) and 4 <= len(value.strip()) <= 500


def Reason(message: str = "请写明理由（4 到 500 个字符）", **kwargs) -> fields.String:
    """Return the required reason field of an audited step (`written_reason`)."""
    def written(value: str) -> None:
        if not written_reason(value):
            raise ValidationError(message)
    return fields.String(required=True, validate=written, **kwargs)


def PersonName(max_length: int = 50, min_length: int = 0, **kwargs) -> fields.String:
    """Return a String field for a person's name; `*` is refused, so a name shown masked (欧**月)
    and sent back unchanged cannot overwrite the real one."""
    no_mask = validate.Regexp(r"\A[^*]*\Z", error="姓名中不能有 *：脱敏显示的姓名不能作为修改提交")
    return fields.String(validate=[*_length(max_length, min_length), no_mask, _no_bidi], **kwargs)


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _no_bidi(value: str) -> None:
    # Direction overrides and isolates make a name display as another (U+202E reverses what follows).
    if _BIDI_CONTROLS.search(value):
        raise ValidationError("姓名中不能有文字方向控制字符")


INT_MAX = 2**31 - 1  # what an INTEGER column holds on PostgreSQL


def Whole(minimum: int = 0, maximum: int = INT_MAX, **kwargs) -> fields.Integer:
    """Return an Integer field for a JSON body: a JSON integer in range; 1.5 or "30" is refused,
    not truncated or coerced."""
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=maximum), **kwargs)


def Day(**kwargs) -> fields.Date:
    """Return a Date field for a day of the campaign's work (an operation, a deadline): 1900 to 2100,
    as times are (Aware)."""
    return fields.Date(validate=validate.Range(min=date(1900, 1, 1), max=date(2100, 12, 31),
                                               error="日期应在 1900 至 2100 年之间"), **kwargs)


def Past(**kwargs) -> fields.Date:
    """Return a Date field for a day that has come (a birth date): not after today anywhere on
    earth, not before 1900."""
    def has_come(day: date) -> None:
        if not date(1900, 1, 1) <= day <= (datetime.now(UTC) + timedelta(hours=14)).date():
            raise ValidationError("日期应在 1900 年到今天之间")
    return fields.Date(validate=has_come, **kwargs)


def DeviceId(**kwargs) -> fields.String:
    """Return a device id field: a phone's own id, which also names it in a URL (revoke)."""
    return fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{8,64}$", error="设备编号格式不正确"),
                         **kwargs)


def Choice(choices, **kwargs) -> fields.String:
    """Return a String field limited to `choices`."""
    return fields.String(validate=validate.OneOf(choices), **kwargs)


_FILTER_FIELDS = {String: fields.String, Boolean: fields.Boolean, Date: fields.Date,
                  Integer: lambda: fields.Integer(validate=validate.Range(-INT_MAX, INT_MAX))}


def filter_schema(model, answer: type[Schema], base: type[Schema]) -> type[Schema]:
    """Return `base` with a filter for every plain column an answer of `model` shows under its own
    name, and its place (API.md: list filters are "query args named after the fields"); `base`
    keeps its own."""
    added = {}
    shown = {name: field.attribute in (None, name) for name, field in answer._declared_fields.items()}
    for name, plain in {"village_id": True, "grid_id": True, **shown}.items():
        column = model.__table__.columns.get(name) if plain else None
        kind = next((f for t, f in _FILTER_FIELDS.items() if column is not None and isinstance(column.type, t)),
                    None)
        if kind is not None and name not in base._declared_fields and not column.primary_key \
                and name != "version":
            added[name] = kind()
    return type(base.__name__.removesuffix("Schema") + "FilterSchema", (base,), added)


def page_schema(row_schema: type[Schema]) -> type[Schema]:
    """Return the list envelope schema (rows, total, page, per_page) of a row schema."""
    name = row_schema.__name__.removesuffix("Schema") + "Page"
    return Schema.from_dict({"rows": fields.List(fields.Nested(row_schema)), "total": fields.Integer(),
                             "page": fields.Integer(), "per_page": fields.Integer()}, name=name)


def dump_page(schema: Schema, page) -> dict:
    """Serialize a Page into the list envelope."""
    return {"rows": schema.dump(page.rows, many=True), "total": page.total,
            "page": page.page, "per_page": page.per_page}
