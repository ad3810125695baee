"""The API's JSON: dates and moments in ISO 8601, as the schemas write them, wherever they appear."""
from datetime import date

from flask.json.provider import DefaultJSONProvider


class IsoJSONProvider(DefaultJSONProvider):
    """Flask's provider, but a date or datetime not already written by a schema (a to-do's detail,
    a free-form answer) is ISO 8601, not the HTTP date Flask writes ('Mon, 24 Aug 2026 …')."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)
