"""counter: the version of the risk rules the stored children were assessed under

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 10:10:00

Reviewed by hand. `flask recount` assesses every child again once the risk rules' version differs
from the one applied (recount.assess_under_new_rules). Every database before this was assessed under
version 1, the only one there was: a deployment that brings version 2 with this migration is then
reassessed at its first start, not taken as assessed under version 2.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counter, [{"name": "risk_rules", "value": 1}])


def downgrade():
    op.execute("DELETE FROM counter WHERE name = 'risk_rules'")
