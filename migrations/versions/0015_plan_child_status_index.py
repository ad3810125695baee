"""plans: a child's plans found by child and status together

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 09:30:00

Reviewed by hand. The to-do asks of every high-risk child whether it has an active plan. Without
table statistics (SQLite never gathers them; PostgreSQL not until autovacuum has run) both
planners answered it from the index on status, reading every active plan in town for each child:
most of the town admin's 190 ms to-do on a 20,000-child town (60 ms with this index). An index on
(child_id, status) answers it per child; it also serves every lookup by child_id alone, so it
replaces that index.
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan") as batch:
        batch.create_index("ix_plan_child_id_status", ["child_id", "status"], unique=False)
        batch.drop_index("ix_plan_child_id")


def downgrade():
    with op.batch_alter_table("plan") as batch:
        batch.create_index("ix_plan_child_id", ["child_id"], unique=False)
        batch.drop_index("ix_plan_child_id_status")
