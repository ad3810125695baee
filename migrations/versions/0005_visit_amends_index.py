"""visits: a child's latest visit and a visit's amendment found by index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:30:00

Reviewed by hand. A child's latest visit is its newest visit (by visit time, then receipt) that no
amendment replaced. Finding it read and sorted the child's whole history, and listed every
amendment among it. With (child_id, visited_at, received_at) the newest is the index's last
entry, and "is this visit amended?" is one probe of the amends_id index.
"""
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_amends_id", ["amends_id"], unique=False)
        batch_op.create_index("ix_visit_child_latest", ["child_id", "visited_at", "received_at"],
                              unique=False)
        batch_op.drop_index("ix_visit_child_id_visited_at")


def downgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_child_id_visited_at", ["child_id", "visited_at"], unique=False)
        batch_op.drop_index("ix_visit_child_latest")
        batch_op.drop_index("ix_visit_amends_id")
