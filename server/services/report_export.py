"""The monthly report as XLSX: title, 指标/数值 rows, the window, the audit head, the watermark; audited."""

from ..extensions import db
from ..models import utcnow
from . import audit, reports, schedule
from .ledgers.base import CATEGORIES, RISK, Column
from .ledgers.export import MIMETYPES, watermark
from .ledgers.xlsx import write_xlsx

INDICATORS = [
    ("children.active", "在册重点儿童总数"),
    *[(f"children.by_category.{key}", f"  其中：{label}儿童") for key, label in CATEGORIES.items()],
    *[(f"children.by_risk.{key}", f"  其中：{label}风险") for key, label in RISK.items()],
    ("children.registered", "本期新登记儿童"),
    ("visits.total", "本期走访次数"),
    ("visits.children_visited", "本期走访儿童人数"),
    ("visits.flagged", "本期存疑（系统标记）走访"),
    ("visits.accepted", "  其中：审核通过"),
    ("visits.questioned", "  其中：退回核实"),
    ("visits.overdue_children", "期末走访逾期儿童"),
    ("plans.active", "执行中一对一帮扶计划"),
    ("plans.drafted", "本期新拟帮扶计划"),
    ("plans.approved", "本期审批帮扶计划"),
    ("plans.closed", "本期结案帮扶计划"),
    ("plans.missing", "高风险超过7天未落实帮扶计划的儿童"),
    ("venues.total", "重点场所数"),
    ("venues.inspected", "本期检查场所数"),
    ("venues.inspections", "本期检查次数"),
    ("venues.failed_items", "本期发现问题项"),
    ("venues.open_violations", "期末未整改问题"),
    ("venues.overdue_rectifications", "  其中：逾期未整改"),
    ("staff_checks.total", "本期从业人员查询人次"),
    ("staff_checks.record_found", "  其中：发现违法犯罪记录"),
    ("unit_staff_checks.total", "  其中：单位（学校、卫生院等）人员查询人次"),
    ("operations.total", "本期联合执法行动次数（全镇）"),
]
# Figures of the town alone: a village's report does not carry them.
TOWN_ONLY = {"unit_staff_checks.total"}


def _value(figures: dict, path: str):
    for key in path.split("."):
        figures = figures[key]
    return figures


def _info_rows(report: dict) -> list[dict]:
    first = "value"
    window = f"{report['window_start']:%Y-%m-%d} 至 {report['window_end']:%Y-%m-%d}"
    rows = [{"label": "统计区间", first: window}, {"label": "应报日期", first: f"{report['due']:%Y-%m-%d}"}]
    if report.get("submitted"):
        rows.append({"label": "提交时间", first: f"{schedule.local_date(report['submitted_at']):%Y-%m-%d}"
                     + ("（逾期）" if report["late"] else "")})
        rows.append({"label": "审计链头（提交时）", first: report["audit_head"]})
    else:
        rows.append({"label": "状态", first: "未提交（按当前记录统计）"})
    return rows


def report_sheet(report: dict) -> tuple[list[Column], list[dict]]:
    """Return the sheet's columns and rows: a village's 指标/数值, or the town total and each village."""
    villages = report.get("villages")
    columns = [Column("label", "指标", 36), Column("value", "数值" if villages is None else "全镇合计", 18)]
    columns += [Column(f"v{n}", v["name"], 12) for n, v in enumerate(villages or [])]
    rows = _info_rows(report)
    for path, label in INDICATORS:
        if path in TOWN_ONLY and villages is None:
            continue
        row = {"label": label, "value": _value(report["figures"], path)}
        if path not in TOWN_ONLY:
            row.update({f"v{n}": _value(v["figures"], path) for n, v in enumerate(villages or [])})
        rows.append(row)
    return columns, rows


def export_report(actor, period: str, village_id: str | None = None,
                  device_id: str | None = None) -> tuple[str, str, bytes]:
    """Build the report as XLSX, audit the export (report.export) and return the file."""
    report = reports.monthly_report(actor, period, village_id)
    title = f"{report['village_name']}未成年人保护工作月报（{period}）"
    columns, rows = report_sheet(report)
    footer = watermark(actor, utcnow().astimezone(schedule.local_zone()), False)
    content = write_xlsx("月报", title, columns, rows, footer)
    audit.record_event("report.export", actor, "report", report.get("id") or period, device_id,
                       detail={"format": "xlsx", "period": period, "village_id": report["village_id"],
                               "submitted": report["submitted"], "rows": len(rows)})
    db.session.commit()
    return f"{title}.xlsx", MIMETYPES["xlsx"], content
