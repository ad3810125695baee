"""facts: inspections, plan progress and clues are corrected the way visits are

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 17:40:00

Reviewed by hand. Visits, inspections, plan progress and clues are facts, create only; a
correction is a new record that names the one it amends (`amends_id`) and why (`amend_reason`,
encrypted). Visits had both from the start; the other three get them here. Nothing stored
changes: every existing record amends nothing.
"""
import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("inspection", "plan_progress", "clue")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("amend_reason_ct", sa.LargeBinary(), nullable=True))
            batch_op.add_column(sa.Column("amends_id", sa.String(length=36), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_amends_id"), ["amends_id"], unique=False)
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_amends_id_{table}"), table, ["amends_id"], ["id"])


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_amends_id_{table}"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_amends_id"))
            batch_op.drop_column("amends_id")
            batch_op.drop_column("amend_reason_ct")
