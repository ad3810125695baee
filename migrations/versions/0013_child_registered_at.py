"""children: when the worker registered the child, apart from when the server received it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 08:00:00

Reviewed by hand. A child registered on a phone out of coverage reaches the server days later;
its first visit falls due a full interval after it was registered, not after it was received.
Every child registered so far is taken as registered when the server created it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("child") as batch:
        batch.add_column(sa.Column("registered_at", sa.DateTime(), nullable=True))
    child = sa.table("child", sa.column("registered_at", sa.DateTime()), sa.column("created_at", sa.DateTime()))
    op.execute(child.update().values(registered_at=child.c.created_at))
    with op.batch_alter_table("child") as batch:
        batch.alter_column("registered_at", existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table("child") as batch:
        batch.drop_column("registered_at")
