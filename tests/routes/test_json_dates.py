"""Every date the API writes is ISO 8601, whether a schema wrote it or it came in a free-form dict."""
from datetime import UTC, date, datetime, timedelta, timezone


def test_dates_and_moments_outside_the_schemas_are_written_as_iso_8601(app):
    shanghai = timezone(timedelta(hours=8))
    body = {"day": date(2026, 8, 24), "moments": [datetime(2026, 8, 24, 5, 50, 46, tzinfo=UTC),
                                                 datetime(2026, 8, 24, 13, 50, 46, tzinfo=shanghai)],
            "name": "测试"}
    assert app.json.loads(app.json.dumps(body)) == {
        "day": "2026-08-24", "moments": ["2026-08-24T05:50:46+00:00", "2026-08-24T13:50:46+08:00"],
        "name": "测试"}
    assert "测试" in app.json.dumps(body)  # not escaped
