"""devices: a key per device the phone wraps its data key under too, for a password reset

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 03:00:00

Reviewed by hand. A worker who forgot her password, and had the town admin reset it, could not open
what her phone held unsynced: its data key was wrapped only under the password she forgot. The
server now keeps a random key per device (encrypted like every sealed field), released only to a
session of that user on that device; the phone wraps its data key under it too. Revoking the
device erases it. Devices registered so far get one when their phone first asks.
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# SQLite rebuilds the table; reflecting the tables it refers to would meet the user table's
# expression index, which SQLite cannot reflect.
ALONE = {"reflect_kwargs": {"resolve_fks": False}}


def upgrade():
    with op.batch_alter_table("device", **ALONE) as batch:
        batch.add_column(sa.Column("recovery_key_ct", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("device", **ALONE) as batch:
        batch.drop_column("recovery_key_ct")
