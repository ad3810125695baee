"""Times from phones: ISO 8601 with a UTC offset, refused in Chinese otherwise."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from server.schemas.casework import VisitCreateSchema
from server.schemas.sync import PushSchema

CHINA = timezone(timedelta(hours=8))


@pytest.mark.parametrize("text, expected", [
    ("2026-11-29T13:00:00+08:00", datetime(2026, 11, 29, 13, tzinfo=CHINA)),
    ("2026-11-29T05:00:00Z", datetime(2026, 11, 29, 5, tzinfo=UTC)),
    ("2026-11-29T05:00:00.123Z", datetime(2026, 11, 29, 5, 0, 0, 123000, tzinfo=UTC)),
    ("2026-11-29 13:00+08:00", datetime(2026, 11, 29, 13, tzinfo=CHINA)),
])
def test_a_time_with_its_offset_loads_as_that_moment(text, expected):
    loaded = VisitCreateSchema().load({"child_id": "c", "visited_at": text})["visited_at"]
    assert loaded == expected and loaded.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value, message", [
    ("2026-11-29T13:00:00", "时间须带时区（如 +08:00）"),
    ("2026-11-29", "时间格式应为 ISO 8601（含时区）"),
    ("2026-1-5T13:00:00+08:00", "时间格式应为 ISO 8601（含时区）"),
    ("2026-11-29中13:00:00+08:00", "时间格式应为 ISO 8601（含时区）"),
    ("2026-W48-7T13:00:00+08:00", "时间格式应为 ISO 8601（含时区）"),
    ("2026-11-29T13:00:00+00:00\x00", "时间格式应为 ISO 8601（含时区）"),
    ("２０２６-11-29T13:00:00+08:00", "时间格式应为 ISO 8601（含时区）"),
    ("2026-13-29T13:00:00+08:00", "时间格式应为 ISO 8601（含时区）"),
    ("昨天下午", "时间格式应为 ISO 8601（含时区）"),
    (1764392400, "时间格式应为 ISO 8601（含时区）"),
    (None, "不能为空"),
])
def test_a_time_without_an_offset_or_not_iso_is_refused_in_chinese(value, message):
    with pytest.raises(ValidationError) as caught:
        VisitCreateSchema().load({"child_id": "c", "visited_at": value})
    assert caught.value.messages == {"visited_at": [message]}


def test_the_push_envelope_refuses_a_device_time_without_an_offset():
    with pytest.raises(ValidationError) as caught:
        PushSchema().load({"device_id": "phone-0001", "device_time": "2026-11-29T13:00:00", "ops": []})
    assert caught.value.messages == {"device_time": ["时间须带时区（如 +08:00）"]}
