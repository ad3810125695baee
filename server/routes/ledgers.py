"""GET /api/ledgers/{name}: a ledger page as JSON, or the whole ledger as CSV or XLSX (audited)."""
from urllib.parse import quote

from flask import Blueprint, Response
from flask_login import login_required

from ..schemas.ledgers import LedgerQuerySchema, LedgerSchema
from ..services.ledgers import export
from .common import actor, api_doc, device_id, query_args

bp = Blueprint("ledgers", __name__, url_prefix="/api")

NAMES = ", ".join(export.BUILDERS)


@bp.get(f"/ledgers/<any({NAMES}):name>")
@api_doc(query=LedgerQuerySchema, response=LedgerSchema)
@login_required
def ledger(name: str):
    """Return a ledger page, or with format=csv|xlsx the whole ledger as a file."""
    args = query_args(LedgerQuerySchema())
    if args["format"] == "json":
        return LedgerSchema().dump(export.ledger_page(actor(), name, args))
    filename, mimetype, content = export.export_ledger(
        actor(), name, args, args["format"], args["unmasked"], args.get("reason"), device_id())
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=ledger.{args['format']}; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-store"
    return response
