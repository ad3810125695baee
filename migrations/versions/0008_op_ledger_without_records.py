"""sync: the op ledger keeps no copy of a conflicted record

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:40:00

Reviewed by hand. A push answered a conflict with `current`, the server's record as the caller
saw it, and the op ledger stored that answer whole, so names, addresses and notes lay in
`applied_op.result` in the clear, outside the field encryption. The ledger now stores the answer
without it and a retried conflict reads the record again; this drops `current` from the rows
already stored. It reads and writes rows, so it cannot be rendered as offline SQL. There is no
way back: the downgrade leaves the rows as they are.
"""
import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    ledger = sa.table("applied_op", sa.column("op_id", sa.String), sa.column("result", sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(ledger.c.op_id, ledger.c.result).where(
        sa.cast(ledger.c.result, sa.Text).like('%"current"%'))).all()
    for op_id, result in rows:
        if isinstance(result, dict) and "current" in result:
            kept = {key: value for key, value in result.items() if key != "current"}
            connection.execute(ledger.update().where(ledger.c.op_id == op_id).values(result=kept))


def downgrade():
    pass
