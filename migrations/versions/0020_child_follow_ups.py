"""children: the follow-ups their visits call for (the risk rules' follow_ups), and what decided each

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:00:00

Reviewed by hand. A visit's answers are sealed, so the to-do cannot find in SQL the children a
visit found without prevention education; the child keeps the follow-ups' keys beside its risk
reasons, and for each the visit that decided it (the latest that answered), so a visit arriving
later decides without reading the others. NULL says "not worked out yet": `flask recount` (run by
`make run` at each start) works them out from each such child's standing visits.
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("child", sa.Column("follow_ups", sa.JSON(), nullable=True))
    op.add_column("child", sa.Column("follow_up_basis", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("child") as batch:
        batch.drop_column("follow_up_basis")
        batch.drop_column("follow_ups")
