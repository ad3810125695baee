"""The synced entities: model, schemas and the services that write each one."""
from collections.abc import Callable
from dataclasses import dataclass

from ..models import (
    Child,
    Clue,
    Household,
    Inspection,
    JointOperation,
    Plan,
    PlanProgress,
    StaffCheck,
    Venue,
    Visit,
)
from ..schemas import casework as cs
from ..schemas import households as hs
from ..schemas import venues as vs
from ..schemas.dumping import dumper
from ..services import casework, clues, enforcement, inspections, plans, registry, scope, visits
from ..services.masking import masked_for


@dataclass(frozen=True)
class Entity:
    """One synced record kind; facts have no update and no delete.

    A kind with `prefetch(actor, items)` has its consecutive creates in a push applied as one
    run (services/batching.py), `prefetch` loading what the run will look up. `guard(actor, record)`
    refuses an edit or a delete the record's state does not allow the caller (a closed plan);
    `removable(actor, record)` refuses a delete that would leave other live records orphaned (a
    household's children). `filed_schema` answers a filer who cannot read the kind back (a clue's).
    `implied` pairs a field with one an edit of it also sets (a staff check's next due date follows
    its check date), so a stale edit conflicts with a change of either.
    """

    name: str
    model: type
    schema: type
    create_schema: type
    create: Callable
    update_schema: type | None = None
    update: Callable | None = None
    prefetch: Callable | None = None
    guard: Callable | None = None
    removable: Callable | None = None
    filed_schema: type | None = None
    implied: tuple[tuple[str, str], ...] = ()

    @property
    def is_fact(self) -> bool:
        """Say whether records of this kind are create-only."""
        return self.update is None

    def shown(self, actor, record) -> dict:
        """Return `record` (a model or a stored view) as `actor` may see it: dumped by the kind's
        schema, names masked where the role sees them so. Every answer that carries a record,
        the pull's thousands included, is made here."""
        return masked_for(actor, self.name, dumper(self.schema)(record))

    def filed(self, actor, record) -> dict:
        """Return a record just created as its creator is answered: as shown if they may read the
        kind, else what they filed."""
        if scope.can_read(actor, self.model):
            return self.shown(actor, record)
        return dumper(self.filed_schema)(record)


def _timed(create: Callable) -> Callable:
    # A create whose times are the phone's word, read against the phone's clock (a fact's time, a
    # child's registration).
    return lambda actor, data, ctx: create(actor, data, ctx.device_id, ctx.device_time)


def _held_fact(create: Callable) -> Callable:
    # A fact about a child or a plan the phone held may be filed after they left its reach.
    return lambda actor, data, ctx: create(actor, data, ctx.device_id, ctx.device_time, ctx.held)


def _mutable(create: Callable) -> Callable:
    return lambda actor, data, ctx: create(actor, data, ctx.device_id)


ENTITIES = {e.name: e for e in (
    Entity("household", Household, hs.HouseholdSchema, hs.HouseholdCreateSchema,
           _mutable(registry.create_household), hs.HouseholdUpdateSchema, registry.update_household,
           removable=registry.check_household_removable),
    Entity("child", Child, hs.ChildSchema, hs.ChildCreateSchema, _timed(registry.create_child),
           hs.ChildUpdateSchema, registry.update_child, removable=registry.check_child_removable),
    Entity("visit", Visit, cs.VisitSchema, cs.VisitCreateSchema, _held_fact(visits.record_visit),
           prefetch=visits.prefetch_visits),
    Entity("venue", Venue, vs.VenueSchema, vs.VenueCreateSchema, _mutable(registry.create_venue),
           vs.VenueUpdateSchema, registry.update_venue, removable=enforcement.check_venue_removable),
    Entity("inspection", Inspection, cs.InspectionSchema, cs.InspectionCreateSchema,
           _timed(inspections.record_inspection)),
    Entity("joint_operation", JointOperation, cs.OperationSchema, cs.OperationCreateSchema,
           _mutable(casework.create_operation), cs.OperationUpdateSchema, casework.update_operation,
           removable=casework.check_operation_removable),
    Entity("plan", Plan, cs.PlanSchema, cs.PlanCreateSchema, _mutable(casework.create_plan),
           cs.PlanUpdateSchema, casework.update_plan, guard=casework.check_plan_editable),
    Entity("plan_progress", PlanProgress, cs.ProgressSchema, cs.ProgressCreateSchema,
           _held_fact(plans.add_progress)),
    Entity("clue", Clue, cs.ClueSchema, cs.ClueCreateSchema, _held_fact(clues.file_clue),
           filed_schema=cs.ClueFiledSchema),
    Entity("staff_check", StaffCheck, cs.StaffCheckSchema, cs.StaffCheckCreateSchema,
           _mutable(casework.create_staff_check), cs.StaffCheckUpdateSchema,
           casework.update_staff_check, implied=casework.STAFF_CHECK_IMPLIED),
)}

BY_MODEL = {e.model: e for e in ENTITIES.values()}
