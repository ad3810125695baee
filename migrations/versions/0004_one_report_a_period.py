"""reports: one monthly report of a village a period

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 04:00:00

Reviewed by hand. A submitted report is frozen: the service refuses a second submission (409)
after taking the audit chain's lock; this unique index makes that hold on any engine, even for two
submissions racing on SQLite. Unit reports (village_id NULL) are not constrained by it.
"""
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        batch_op.create_index("uq_report_snapshot_kind_period_village_id", ["kind", "period", "village_id"],
                              unique=True)


def downgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        batch_op.drop_index("uq_report_snapshot_kind_period_village_id")
