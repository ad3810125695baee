"""Monthly reports: the figures (JSON or XLSX), the village head's submission, who has submitted;
the police station's weekly report of clues."""
from urllib.parse import quote

from flask import Blueprint, Response
from flask_login import login_required

from ..schemas import reports as rs
from ..services import periods, report_export, reports, schedule, weekly_reports
from .common import actor, api_doc, device_id, json_body, query_args

bp = Blueprint("reports", __name__, url_prefix="/api/reports")


def _period(args: dict) -> str:
    return args.get("period") or periods.current_period(schedule.local_today())


@bp.get("/monthly")
@api_doc(query=rs.ReportQuerySchema, response=rs.ReportSchema)
@login_required
def monthly():
    """Return a village's or the town's monthly figures, or with format=xlsx the report as a file."""
    args = query_args(rs.ReportQuerySchema())
    if args["format"] == "json":
        return rs.ReportSchema().dump(reports.monthly_report(actor(), _period(args), args.get("village_id")))
    filename, mimetype, content = report_export.export_report(
        actor(), _period(args), args.get("village_id"), device_id())
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=report.xlsx; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/monthly/submit")
@api_doc(body=rs.ReportSubmitSchema, response=rs.ReportSchema, status=201)
@login_required
def submit():
    """Submit the village's monthly report: its figures frozen with the audit chain's head."""
    data = json_body(rs.ReportSubmitSchema())
    report = reports.submit_report(actor(), data["period"], data["village_id"], device_id())
    return rs.ReportSchema().dump(report), 201


@bp.get("/monthly/status")
@api_doc(query=rs.ReportStatusQuerySchema, response=rs.ReportStatusSchema)
@login_required
def status():
    """Return who has submitted a period's monthly report and who is late."""
    args = query_args(rs.ReportStatusQuerySchema())
    return rs.ReportStatusSchema().dump(reports.report_status(actor(), _period(args)))


@bp.get("/weekly")
@api_doc(query=rs.WeeklyQuerySchema, response=rs.WeeklyReportSchema)
@login_required
def weekly():
    """Return the police station's weekly report of clues (police, town admin)."""
    args = query_args(rs.WeeklyQuerySchema())
    return rs.WeeklyReportSchema().dump(weekly_reports.weekly_report(actor(), args.get("week")))


@bp.post("/weekly/submit")
@api_doc(body=rs.WeeklySubmitSchema, response=rs.WeeklyReportSchema, status=201)
@login_required
def submit_weekly():
    """Submit the station's weekly report: its figures frozen with the audit chain's head."""
    data = json_body(rs.WeeklySubmitSchema())
    return rs.WeeklyReportSchema().dump(weekly_reports.submit_weekly(actor(), data["week"], device_id())), 201
