"""The places tree and reveals of masked child fields."""
from flask import Blueprint
from flask_login import login_required

from ..schemas.households import RevealedSchema, RevealSchema
from ..schemas.places import PlacesSchema
from ..services import places, reveal
from .common import actor, api_doc, device_id, json_body

bp = Blueprint("places", __name__, url_prefix="/api")


@bp.get("/places")
@api_doc(response=PlacesSchema)
@login_required
def list_places():
    """Return the villages and grids the caller may see."""
    return PlacesSchema().dump(places.list_places(actor()))


@bp.post("/children/<child_id>/reveal")
@api_doc(body=RevealSchema, response=RevealedSchema)
@login_required
def reveal_child(child_id: str):
    """Show one masked field of a child to an allowed role, with a reason, audited."""
    data = json_body(RevealSchema())
    value = reveal.reveal_child_field(actor(), child_id, data["field"], data["reason"], device_id())
    return RevealedSchema().dump({"value": value})
