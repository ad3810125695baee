"""facts: when a visit or inspection counts as made, stamped as it is received

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 17:00:00

Reviewed by hand. A visit or inspection counts as made at the time its phone gave, or when the
server received it if the phone dated it later (models.facts.counted_time): a clock running a year
ahead froze the child's schedule, since its visit stayed the latest. The time is stamped once, as
received, like received_at; the rows stored so far get it from their two times. A child's latest
visit is ordered by it, so the index on (child_id, visited_at, received_at) gives way to one on
(child_id, counted_at, received_at).
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

MADE = {"visit": "visited_at", "inspection": "inspected_at"}
# SQLite rebuilds the table; reflecting the tables it refers to would meet the user table's
# expression index, which SQLite cannot reflect.
ALONE = {"reflect_kwargs": {"resolve_fks": False}}


def upgrade():
    for table, made in MADE.items():
        with op.batch_alter_table(table, **ALONE) as batch:
            batch.add_column(sa.Column("counted_at", sa.DateTime(), nullable=True))
        op.execute(f"UPDATE {table} SET counted_at = CASE WHEN {made} > received_at "
                   f"THEN received_at ELSE {made} END")
        with op.batch_alter_table(table, **ALONE) as batch:
            batch.alter_column("counted_at", existing_type=sa.DateTime(), nullable=False)
    with op.batch_alter_table("visit", **ALONE) as batch:
        batch.create_index("ix_visit_child_counted", ["child_id", "counted_at", "received_at"], unique=False)
        batch.drop_index("ix_visit_child_latest")


def downgrade():
    with op.batch_alter_table("visit", **ALONE) as batch:
        batch.create_index("ix_visit_child_latest", ["child_id", "visited_at", "received_at"], unique=False)
        batch.drop_index("ix_visit_child_counted")
    for table in MADE:
        with op.batch_alter_table(table, **ALONE) as batch:
            batch.drop_column("counted_at")
