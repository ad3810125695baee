"""GET /api/checklists: the current checklist templates, which answers prompt a clue, and which call
for a follow-up, for the phone to cache."""
from flask import Blueprint
from flask_login import login_required

from ..schemas.checklists import ChecklistsSchema
from ..services.checklists import load_templates
from ..services.risk import clue_prompt, follow_up_catalogue
from .common import api_doc

bp = Blueprint("checklists", __name__, url_prefix="/api")


@bp.get("/checklists")
@api_doc(response=ChecklistsSchema)
@login_required
def list_checklists():
    """Return every checklist template (by venue type, and the home-visit one), with versions, and
    the home-visit answers that prompt a clue at once, and the follow-ups answers call for."""
    templates = sorted(load_templates().values(), key=lambda t: t["key"])
    return ChecklistsSchema().dump({"templates": templates, "clue_prompt": clue_prompt(),
                                    "follow_ups": follow_up_catalogue()})
