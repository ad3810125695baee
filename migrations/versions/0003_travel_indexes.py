"""trust: one person's records by time, for the travel check's nearest-neighbour lookups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:35:00

Reviewed by hand. The travel check asks, for each new visit or inspection, for the same person's
nearest record before and after it; with only single-column indexes that read every record of
the person (quadratic over a worker's history).
"""
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_worker_id_visited_at", ["worker_id", "visited_at"],
                              unique=False)
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index("ix_inspection_inspector_id_inspected_at",
                              ["inspector_id", "inspected_at"], unique=False)


def downgrade():
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_inspector_id_inspected_at")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_worker_id_visited_at")
