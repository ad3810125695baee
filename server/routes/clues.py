"""The police station's clue work: receive a clue, close it with an outcome."""
from flask import Blueprint
from flask_login import login_required

from ..schemas.casework import ClueCloseSchema, ClueSchema
from ..services import clues
from ..sync.entities import ENTITIES
from .common import actor, api_doc, device_id, json_body

bp = Blueprint("clues", __name__, url_prefix="/api/clues")


@bp.post("/<clue_id>/receive")
@api_doc(response=ClueSchema)
@login_required
def receive(clue_id: str):
    """Mark a new clue received by the station (police)."""
    return ENTITIES["clue"].shown(actor(), clues.receive_clue(actor(), clue_id, device_id()))


@bp.post("/<clue_id>/close")
@api_doc(body=ClueCloseSchema, response=ClueSchema)
@login_required
def close(clue_id: str):
    """Close a received clue with its outcome and a note (police)."""
    data = json_body(ClueCloseSchema())
    return ENTITIES["clue"].shown(actor(), clues.close_clue(actor(), clue_id, data["outcome"], data["note"],
                                                            device_id()))
