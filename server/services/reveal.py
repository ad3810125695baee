"""Reveal one masked field to a role allowed to see it, with a reason, audited."""
from ..errors import ApiError
from ..extensions import db
from ..models import Child, Household
from . import audit, scope

REVEAL_ROLES = ("town_admin", "village_head")


def reveal_child_field(actor, child_id: str, field: str, reason: str,
                       device_id: str | None = None):
    """Return the unmasked value of `field` for a child in scope, and audit the reveal."""
    child = scope.get_scoped(actor, Child, child_id)
    if actor.role not in REVEAL_ROLES:
        raise ApiError(403, "reveal_not_allowed", "您的角色无权查看完整信息")
    if field == "id_number":
        value = child.id_number
    elif field == "name":
        value = child.name
    else:
        household = db.session.get(Household, child.household_id)
        value = [g.get("phone") for g in (household.guardians or []) if g.get("phone")]
    audit.record_event("reveal", actor, "child", child.id, device_id, detail={"field": field},
                       reason=reason)
    db.session.commit()
    return value
