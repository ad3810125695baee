"""reports: a submitted report keeps its window and due date

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 07:05:00

Reviewed by hand. A submitted report's window and due date were recomputed from the cut-off day
setting on every read, so changing the setting re-labelled reports already frozen. They are now
stored at submission; rows from before this revision have none and are read as before.
"""
import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("window_end", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        batch_op.drop_column("due_on")
        batch_op.drop_column("window_end")
        batch_op.drop_column("window_start")
