"""clues: the police station receives a clue and closes it with an outcome

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 18:15:00

Reviewed by hand. A clue was filed and then sat as `new` for good: nothing said whether the police
station had it or what came of it. It now records who received it and when, and when it was
closed, with an outcome (`case_filed`, `no_case`, `referred`, `other`) and a note (encrypted).
Existing clues stay `new`, waiting for the station.
"""
import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("received_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("outcome_note_ct", sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_clue_received_by_user"), "user", ["received_by"], ["id"])


def downgrade():
    with op.batch_alter_table("clue", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_clue_received_by_user"), type_="foreignkey")
        for name in ("outcome_note_ct", "outcome", "closed_at", "received_by", "received_at"):
            batch_op.drop_column(name)
