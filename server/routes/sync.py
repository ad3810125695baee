"""POST /api/sync/push and GET /api/sync/pull."""
from flask import Blueprint
from flask_login import login_required

from ..schemas.dumping import dumper
from ..schemas.sync import PullQuerySchema, PullResultSchema, PushResultSchema, PushSchema
from ..services import collector
from ..sync.pull import pull_changes
from ..sync.push import check_device, push_batch
from .common import actor, api_doc, device_id, json_body, query_args

bp = Blueprint("sync", __name__, url_prefix="/api/sync")


@bp.post("/push")
@api_doc(body=PushSchema, response=PushResultSchema)
@login_required
def push():
    """Apply a batch of ops exactly once each; one result per op, in order."""
    with collector.paused():
        return dumper(PushResultSchema)(push_batch(actor(), json_body(PushSchema(), each="ops")))


@bp.get("/pull")
@api_doc(query=PullQuerySchema, response=PullResultSchema)
@login_required
def pull():
    """Return the caller's changes after a cursor, in commit order."""
    args = query_args(PullQuerySchema())
    device = check_device(actor(), device_id())
    return dumper(PullResultSchema)(pull_changes(actor(), device, args["cursor"], args["limit"]))
