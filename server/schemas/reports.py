"""Schemas of the monthly report and the police's weekly report: the period, the query, the submit
body, the answers."""
from marshmallow import Schema, ValidationError, fields, validate

from ..services import periods
from .common import Choice, StrictSchema


def _valid(check, message: str):
    """Return a validator refusing, with `message`, a value `check` refuses (ValueError) or finds nothing in."""
    def validator(value: str) -> None:
        try:
            found = check(value)
        except ValueError:
            found = None
        if not found:
            raise ValidationError(message)
    return validator


def Period(**kwargs) -> fields.String:
    """Return a YYYY-MM period field (1900 to 2100), read as the reports read it (periods.parse)."""
    return fields.String(validate=_valid(periods.parse, "月份格式应为 YYYY-MM（1900 至 2100 年）"), **kwargs)


class ReportQuerySchema(StrictSchema):
    """GET /api/reports/monthly: period (default: the one due next), village (none: the town), format."""

    period = Period()
    village_id = fields.String(validate=validate.Length(max=36))
    format = Choice(("json", "xlsx"), load_default="json")


class ReportStatusQuerySchema(StrictSchema):
    """GET /api/reports/monthly/status: the period (default: the one due next)."""

    period = Period()


class ReportSubmitSchema(StrictSchema):
    """POST /api/reports/monthly/submit: the village head submits the village's period."""

    period = Period(required=True)
    village_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class VillageFiguresSchema(Schema):
    """One village's row in the town's report."""

    village_id = fields.String()
    name = fields.String()
    submitted = fields.Boolean()
    figures = fields.Dict()


class FrozenReportSchema(Schema):
    """A report's window and figures, and once submitted the frozen snapshot with its audit head."""

    id = fields.String(allow_none=True)
    period = fields.String()
    window_start = fields.Date()
    window_end = fields.Date()
    due = fields.Date()
    as_of = fields.DateTime()
    submitted = fields.Boolean()
    figures = fields.Dict()
    audit_head = fields.String(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    submitted_by_name = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    late = fields.Boolean(allow_none=True)


class ReportSchema(FrozenReportSchema):
    """A village's or the town's monthly report."""

    village_id = fields.String(allow_none=True)
    village_name = fields.String()
    villages = fields.List(fields.Nested(VillageFiguresSchema))


class SubmissionStatusSchema(Schema):
    """Whether a unit has submitted a period's report, when, by whom, and whether it is late."""

    name = fields.String()
    submitted = fields.Boolean()
    submitted_at = fields.DateTime(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    submitted_by_name = fields.String(allow_none=True)
    late = fields.Boolean()


class VillageStatusSchema(SubmissionStatusSchema):
    """One village's monthly submission."""

    village_id = fields.String()


class ReportStatusSchema(Schema):
    """Who has submitted a period's report and who is late."""

    period = fields.String()
    due = fields.Date()
    villages = fields.List(fields.Nested(VillageStatusSchema))


def Week(**kwargs) -> fields.String:
    """Return a YYYY-Www (ISO week) field."""
    # Its shape only: a week the calendar lacks (2025-W53) is the report's to refuse, as 周次无效.
    shape = _valid(periods.WEEK.fullmatch, "周次格式应为 YYYY-Www（如 2026-W48）")
    return fields.String(validate=shape, **kwargs)


class WeeklyQuerySchema(StrictSchema):
    """GET /api/reports/weekly: the ISO week (default: last week)."""

    week = Week()


class WeeklySubmitSchema(StrictSchema):
    """POST /api/reports/weekly/submit: the police station submits a week."""

    week = Week(required=True)


class StationStatusSchema(SubmissionStatusSchema):
    """One police station's weekly submission."""

    unit_id = fields.String()


class WeeklyReportSchema(FrozenReportSchema):
    """The police station's weekly report of clues, with every station's submission status."""

    unit_id = fields.String(allow_none=True)
    stations = fields.List(fields.Nested(StationStatusSchema))
