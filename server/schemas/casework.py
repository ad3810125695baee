"""Schemas of visits, inspections, joint operations, plans, progress, clues and staff checks."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models import CLUE_OUTCOMES, MEASURE_KINDS, PLAN_STATUSES, VISIT_FLAGS
from ..services.masking import mask_id_number
from .common import (
    Aware,
    Choice,
    Day,
    Number,
    PageQuerySchema,
    Past,
    PersonName,
    RecordSchema,
    StrictSchema,
    Text,
    Uuid,
    Whole,
)
from .households import LocationMixin
from .validators import validate_id_number


class AmendsMixin(StrictSchema):
    """A correction of a fact names the record it amends and why."""

    amends = fields.String(allow_none=True)
    amend_reason = Text(500, allow_none=True)

    @validates_schema
    def reason_corrects_something(self, data, **kwargs):
        if data.get("amend_reason") and not data.get("amends"):
            raise ValidationError("更正理由须与被更正的记录（amends）一同提供", "amend_reason")


class AmendedMixin(Schema):
    """The record a fact corrects, and why."""

    amends = fields.String(attribute="amends_id")
    amend_reason = fields.String()


class FixSchema(LocationMixin):
    """A GPS fix as the phone took it, with its coordinate system."""

    accuracy_m = Number(allow_none=True, validate=validate.Range(min=0, max=100000))


class VisitCreateSchema(AmendsMixin, FixSchema):
    """A home visit as the phone records it (a fact: create only)."""

    id = Uuid(load_default=None)
    child_id = fields.String(required=True)
    visited_at = Aware(required=True)
    template_version = Whole(1, allow_none=True)
    answers = fields.Dict(load_default=dict)
    notes = Text(4000, allow_none=True)
    follow_up = fields.Boolean(load_default=False)


class VisitSchema(AmendedMixin, RecordSchema):
    """A visit as answers show it, with the server's trust flags."""

    child_id = fields.String()
    household_id = fields.String()
    grid_id = fields.String()
    village_id = fields.String()
    worker_id = fields.String()
    visited_at = fields.DateTime()
    received_at = fields.DateTime()
    counted_at = fields.DateTime()
    lat = fields.Function(lambda v: (v.location or {}).get("lat"))
    lon = fields.Function(lambda v: (v.location or {}).get("lon"))
    accuracy_m = fields.Function(lambda v: (v.location or {}).get("accuracy_m"))
    distance_m = fields.Float()
    template_version = fields.Integer()
    answers = fields.Dict()
    notes = fields.String()
    follow_up = fields.Boolean()
    flags = fields.List(Choice(VISIT_FLAGS))
    review_status = fields.String()
    review_note = fields.String()


class VisitQuerySchema(PageQuerySchema):
    """Filters of GET /api/visits."""

    child_id = fields.String()
    grid_id = fields.String()
    village_id = fields.String()
    worker_id = fields.String()
    review_status = fields.String()


class InspectionAnswerSchema(StrictSchema):
    """One checklist item's result."""

    item = fields.String(required=True, validate=validate.Length(min=1, max=60))
    result = Choice(("pass", "fail", "na"), required=True)
    note = Text(1000, allow_none=True)
    deadline = Day(allow_none=True)


class InspectionCreateSchema(AmendsMixin, FixSchema):
    """An inspection as the inspector records it (a fact: create only)."""

    id = Uuid(load_default=None)
    venue_id = fields.String(required=True)
    operation_id = fields.String(allow_none=True)
    inspected_at = Aware(required=True)
    template_version = Whole(1, allow_none=True)
    answers = fields.List(fields.Nested(InspectionAnswerSchema), required=True,
                          validate=validate.Length(min=1, max=100, error="检查项 1 到 100 项"))
    notes = Text(4000, allow_none=True)
    reinspection_of = fields.String(allow_none=True)


class InspectionSchema(AmendedMixin, RecordSchema):
    """An inspection as answers show it."""

    venue_id = fields.String()
    village_id = fields.String()
    operation_id = fields.String()
    inspector_id = fields.String()
    inspected_at = fields.DateTime()
    received_at = fields.DateTime()
    counted_at = fields.DateTime()
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float()
    distance_m = fields.Float()
    template_key = fields.String()
    template_version = fields.Integer()
    answers = fields.Method("get_answers")
    notes = fields.String()
    flags = fields.List(fields.String())
    reinspection_of = fields.String()

    def get_answers(self, inspection) -> list:
        notes = inspection.answer_notes or {}
        return [{**r, "note": notes.get(r["item"])} for r in inspection.results or []]


class OperationCreateSchema(StrictSchema):
    """A joint operation."""

    id = Uuid(load_default=None)
    date = Past(required=True)  # logged once carried out: one dated ahead would count as done
    lead_unit = Text(100, 1, required=True)
    units = fields.List(Text(100, 1), load_default=list)
    member_ids = fields.List(fields.String(), load_default=list)
    notes = Text(4000, allow_none=True)


class OperationUpdateSchema(OperationCreateSchema):
    """A joint operation edit (partial)."""

    id = Uuid(dump_only=True)


class OperationSchema(RecordSchema):
    """A joint operation as answers show it."""

    date = fields.Date()
    lead_unit = fields.String()
    units = fields.List(fields.String())
    member_ids = fields.List(fields.String())
    notes = fields.String()


class MeasureSchema(StrictSchema):
    """One measure of a plan."""

    kind = Choice(MEASURE_KINDS, required=True)
    detail = Text(1000, allow_none=True)
    due = Day(allow_none=True)


class PlanCreateSchema(StrictSchema):
    """An assistance plan as a worker drafts it."""

    id = Uuid(load_default=None)
    child_id = fields.String(required=True)
    helper_id = fields.String(allow_none=True)
    risk_factors = fields.List(Text(60), load_default=list)
    measures = fields.List(fields.Nested(MeasureSchema), load_default=list,
                           validate=validate.Length(max=50, error="帮扶措施最多 50 项"))
    review_every_days = Whole(1, 365, load_default=30)
    status = Choice(("draft",), load_default="draft")


class PlanUpdateSchema(PlanCreateSchema):
    """A plan edit (partial); its status moves only by approval and closing, their own endpoints."""

    id = Uuid(dump_only=True)
    child_id = fields.String(dump_only=True)
    status = fields.String(dump_only=True)


class PlanSchema(RecordSchema):
    """A plan as answers show it."""

    child_id = fields.String()
    grid_id = fields.String()
    village_id = fields.String()
    helper_id = fields.String()
    risk_factors = fields.List(fields.String())
    measures = fields.List(fields.Dict())
    review_every_days = fields.Integer()
    status = Choice(PLAN_STATUSES)
    approved_by = fields.String()
    approved_at = fields.DateTime()
    next_review_due = fields.Date()
    outcome = fields.String()
    closed_at = fields.DateTime()


class ProgressCreateSchema(AmendsMixin):
    """A progress entry on a plan (a fact)."""

    id = Uuid(load_default=None)
    plan_id = fields.String(required=True)
    at = Aware(required=True)
    note = Text(4000, 1, required=True)


class ProgressSchema(AmendedMixin, RecordSchema):
    """A progress entry as answers show it."""

    plan_id = fields.String()
    author_id = fields.String()
    at = fields.DateTime()
    note = fields.String()
    kind = fields.String()  # progress (anyone's entry) or review (the head's periodic assessment)


class ClueCreateSchema(AmendsMixin):
    """A mandatory report (强制报告)."""

    id = Uuid(load_default=None)
    child_id = fields.String(allow_none=True)
    description = Text(4000, 1, required=True)
    happened_at = Aware(allow_none=True)
    place = Text(300, allow_none=True)
    source_visit_id = fields.String(allow_none=True)
    source_inspection_id = fields.String(allow_none=True)


class ClueFiledSchema(AmendedMixin, RecordSchema):
    """A clue as its filer is answered who cannot read clues: what they filed, not what the server
    matched it to (the child an ID number found, which the filer must not learn)."""

    description = fields.String()
    happened_at = fields.DateTime()
    place = fields.String()
    status = fields.String()
    source_visit_id = fields.String()
    source_inspection_id = fields.String()


class ClueSchema(ClueFiledSchema):
    """A clue as police and the town office see it."""

    reporter_id = fields.String()
    child_id = fields.String()
    # {name, sex, birth_date, village, address} of the child as filed; the name masked for the town office
    subject = fields.Dict()
    village_id = fields.String()
    received_at = fields.DateTime()
    received_by = fields.String()
    closed_at = fields.DateTime()
    outcome = fields.String()
    outcome_note = fields.String()


class ClueCloseSchema(StrictSchema):
    """POST /api/clues/{id}/close: what came of the clue, and what was done."""

    outcome = Choice(CLUE_OUTCOMES, required=True)
    note = Text(1000, 1, required=True)


class StaffCheckCreateSchema(StrictSchema):
    """A staff record check."""

    id = Uuid(load_default=None)
    person_name = PersonName(50, 1, required=True)
    id_number = fields.String(required=True, validate=validate_id_number)
    employer_kind = Choice(("unit", "venue"), required=True)
    employer_id = fields.String(required=True)
    checked_on = Past(required=True)
    result = Choice(("clear", "record_found"), required=True)
    next_due = Day(allow_none=True)

    @validates_schema
    def _due_after_check(self, data: dict, **kwargs) -> None:
        if data.get("next_due") and data.get("checked_on") and data["next_due"] < data["checked_on"]:
            raise ValidationError({"next_due": ["下次查询日期不能早于本次查询日期"]})


class StaffCheckUpdateSchema(StaffCheckCreateSchema):
    """A staff check edit (partial)."""

    id = Uuid(dump_only=True)


class StaffCheckSchema(RecordSchema):
    """A staff check as answers show it; the ID number masked."""

    person_name = fields.String()
    id_number = fields.Function(lambda s: mask_id_number(s.id_number))
    employer_kind = fields.String()
    employer_id = fields.String()
    village_id = fields.String()
    checked_on = fields.Date()
    result = fields.String()
    next_due = fields.Date()


