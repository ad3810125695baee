"""clues: who a clue is about, as the register had the child when it was filed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 04:00:00

Reviewed by hand. A clue named its child by id alone, and the police, who act on it, read no child
records: a station could not tell whom a report was about. A clue now keeps the child's name, sex,
birth date, village and address as filed (sealed like every personal field). Clues filed before
keep none; the town office, which reads the register, tells the station.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# SQLite rebuilds the table; reflecting the tables it refers to would meet the user table's
# expression index, which SQLite cannot reflect.
ALONE = {"reflect_kwargs": {"resolve_fks": False}}


def upgrade():
    with op.batch_alter_table("clue", **ALONE) as batch:
        batch.add_column(sa.Column("subject_ct", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("clue", **ALONE) as batch:
        batch.drop_column("subject_ct")
