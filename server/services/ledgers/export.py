"""Ledger pages and their CSV and XLSX exports: title row, frozen header, masked values, watermark."""
import csv
import io
from datetime import datetime

from ...errors import ApiError, validation_error
from ...extensions import db
from ...models import Child, Inspection, Plan, StaffCheck, Venue, utcnow
from ...schemas.common import written_reason
from .. import audit, schedule
from . import base
from .casework import build_plans_ledger, build_staff_checks_ledger
from .children import build_children_ledger
from .venues import build_inspections_ledger, build_venues_ledger
from .xlsx import write_xlsx

BUILDERS = {"children": (Child, build_children_ledger), "venues": (Venue, build_venues_ledger),
            "inspections": (Inspection, build_inspections_ledger), "plans": (Plan, build_plans_ledger),
            "staff_checks": (StaffCheck, build_staff_checks_ledger)}
EXPORT_ROLES = ("village_head", "town_admin")
UNMASK_ROLES = ("town_admin",)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FILTER_KEYS = ("village_id", "grid_id", "category", "risk_level", "overdue", "q")


def ledger_page(actor, name: str, args: dict) -> base.Ledger:
    """Return one page of a ledger in the actor's scope (names masked for the town admin)."""
    return BUILDERS[name][1](actor, args)


def _check_export(actor, name: str, unmasked: bool, reason: str | None) -> None:
    base.require_readable(actor, BUILDERS[name][0])
    if actor.role not in EXPORT_ROLES:
        raise ApiError(403, "export_not_allowed", "您的角色不能导出台账")
    if unmasked and actor.role not in UNMASK_ROLES:
        raise ApiError(403, "unmasked_not_allowed", "只有镇平安办可以导出未脱敏台账")
    if unmasked and not written_reason(reason):
        raise validation_error({"reason": ["导出未脱敏台账须写明理由（4 到 500 个字符）"]})


def watermark(actor, at: datetime, unmasked: bool) -> str:
    """Return the footer line that names the exporter and the time."""
    who = f"{actor.display_name or actor.username}（{actor.username}）"
    kind = "未脱敏，" if unmasked else ""
    return f"导出人：{who}  导出时间：{at:%Y-%m-%d %H:%M}  {kind}内部资料，严禁外传"


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(ledger: base.Ledger, footer: str) -> bytes:
    """Return the ledger as UTF-8 CSV (with BOM, for Excel): title, header, rows, watermark."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe(ledger.title)])  # it begins with a village's name, which may begin with =
    writer.writerow([c.label for c in ledger.columns])
    for row in ledger.rows:
        writer.writerow([_safe(row.get(c.key, "")) for c in ledger.columns])
    writer.writerow([footer])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(ledger: base.Ledger, footer: str) -> bytes:
    """Return the ledger as XLSX: merged title row, frozen bold header, column widths, watermark."""
    return write_xlsx(ledger.name, ledger.title, ledger.columns, ledger.rows, footer)


def export_ledger(actor, name: str, args: dict, fmt: str, unmasked: bool = False,
                  reason: str | None = None, device_id: str | None = None) -> tuple[str, str, bytes]:
    """Build a whole ledger as CSV or XLSX, audit the export with its row count; return the file."""
    _check_export(actor, name, unmasked, reason)
    ledger = BUILDERS[name][1](actor, args, paged=False, unmasked=unmasked)
    now = utcnow().astimezone(schedule.local_zone())
    footer = watermark(actor, now, unmasked)
    content = to_csv(ledger, footer) if fmt == "csv" else to_xlsx(ledger, footer)
    audit.record_event("ledger.export", actor, "ledger", name, device_id, reason=reason if unmasked else None,
                       detail={"format": fmt, "rows": len(ledger.rows), "unmasked": unmasked,
                               "filters": {k: args[k] for k in FILTER_KEYS if args.get(k) and k != "q"},
                               "searched": bool(args.get("q"))})
    db.session.commit()
    filename = f"{ledger.title}.{fmt}"
    return filename, MIMETYPES[fmt], content
