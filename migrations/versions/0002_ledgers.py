"""ledgers: the assessed risk level and when the level changed; merged duplicate children

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:18:10

Reviewed by hand: SQLite batch mode; the self-referencing foreign key is named by the
metadata's naming convention so the downgrade can drop it on both engines. Visits are
counted per child and year for the ledgers, hence the (child_id, visited_at) index.
"""
from alembic import op
import sqlalchemy as sa

from server.models.base import UTCDateTime


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_assessed", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("risk_changed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_child_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_child_merged_into_id_child"), "child",
                                    ["merged_into_id"], ["id"])
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_child_id_visited_at", ["child_id", "visited_at"], unique=False)


def downgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_child_id_visited_at")
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_child_merged_into_id_child"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_child_merged_into_id"))
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("risk_changed_at")
        batch_op.drop_column("risk_assessed")
