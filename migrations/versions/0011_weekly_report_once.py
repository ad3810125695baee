"""reports: one weekly report a station a week, held by the database as the monthly one is

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:00:00

Reviewed by hand. The monthly report's unique index names the village, which a weekly report
leaves empty, and an empty value is never equal to another: nothing below the service's own
check (taken under the audit chain's lock on PostgreSQL) kept a station's week to one report.
That check kept it so far, so existing rows satisfy the new index.
"""
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        batch_op.create_index("uq_report_snapshot_kind_period_unit_id", ["kind", "period", "unit_id"],
                              unique=True)


def downgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        batch_op.drop_index("uq_report_snapshot_kind_period_unit_id")
