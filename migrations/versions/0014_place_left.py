"""sync: every place a synced record left, kept apart from the change log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00

Reviewed by hand. The change log keeps one row a record and place, so a record that moved away
and came back loses the `evict` row of its first move: a phone that held it before would be told
it was elsewhere, and a visit recorded there offline refused. `place_left` keeps every move.
The moves the change log still shows are copied in; those it has already lost stay lost.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ("seq", "entity", "entity_id", "village_id", "grid_id")


def upgrade():
    op.create_table(
        "place_left",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("village_id", sa.String(length=36), nullable=True),
        sa.Column("grid_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_place_left")),
    )
    op.create_index("ix_place_left_entity_entity_id_seq", "place_left", ["entity", "entity_id", "seq"])
    change_log = sa.table("change_log", sa.column("action"), *(sa.column(name) for name in COLUMNS))
    place_left = sa.table("place_left", *(sa.column(name) for name in COLUMNS))
    op.execute(place_left.insert().from_select(
        COLUMNS, sa.select(*(change_log.c[name] for name in COLUMNS)).where(change_log.c.action == "evict")))


def downgrade():
    op.drop_index("ix_place_left_entity_entity_id_seq", table_name="place_left")
    op.drop_table("place_left")
