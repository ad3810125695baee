"""The villages and grids a user may see."""
from sqlalchemy import select

from ..extensions import db
from ..models import Village
from .ordering import natural_key


def list_places(actor) -> dict:
    """Return {"villages": [...]} limited to the actor's scope."""
    villages = db.session.scalars(select(Village).order_by(Village.name)).all()
    grid_ids = set(actor.grid_ids) if actor.role == "grid_worker" else None
    result = []
    for village in villages:
        if actor.role == "village_head" and village.id != actor.village_id:
            continue
        grids = sorted((g for g in village.grids if grid_ids is None or g.id in grid_ids),
                       key=lambda g: natural_key(g.name))
        if grid_ids is not None and not grids:
            continue
        result.append({"id": village.id, "name": village.name, "kind": village.kind,
                       "grids": [{"id": g.id, "name": g.name} for g in grids]})
    return {"villages": result}

