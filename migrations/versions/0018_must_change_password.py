"""users: a password the town admin set is to be changed by its user

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 03:10:00

Reviewed by hand. A password reset by the town admin (0017) is one the admin knows, and whoever
passed it on: the account is marked until its user changes it, and the field app asks them to.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite takes one with a default without rebuilding the user table (whose
    # expression index a batch rebuild could not reflect).
    op.add_column("user", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                    server_default=sa.false()))


def downgrade():
    op.drop_column("user", "must_change_password")  # SQLite 3.35 drops a column without a rebuild
