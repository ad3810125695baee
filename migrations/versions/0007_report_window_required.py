"""reports: every submitted report has its window and due date

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:10:00

Reviewed by hand. Revision 0006 stored a report's window and due date at submission but left the
columns nullable, so reads kept a fallback for older rows. Those rows are filled here from the
cut-off day setting of the migrating app (the only record of it there is), and the columns become
required, so a report has one window: the one it was submitted under. The backfill reads and
writes rows, so this revision cannot be rendered as offline SQL (`db upgrade --sql`).
"""
from datetime import date

import sqlalchemy as sa
from alembic import op
from flask import current_app


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _window(period: str, due_day: int) -> tuple[date, date, date]:
    """Return (first day, last day, due date) of a period, as services.periods computes them."""
    year, month = int(period[:4]), int(period[5:7])
    before = (year - 1, 12) if month == 1 else (year, month - 1)
    due = date(year, month, due_day)
    return date(*before, due_day), date.fromordinal(due.toordinal() - 1), due


def upgrade():
    due_day = int(current_app.config.get("REPORT_DUE_DAY", 17))
    snapshot = sa.table("report_snapshot", sa.column("id", sa.String), sa.column("period", sa.String),
                        sa.column("window_start", sa.Date), sa.column("window_end", sa.Date),
                        sa.column("due_on", sa.Date))
    connection = op.get_bind()
    rows = connection.execute(sa.select(snapshot.c.id, snapshot.c.period)
                              .where(sa.or_(snapshot.c.window_start.is_(None), snapshot.c.window_end.is_(None),
                                            snapshot.c.due_on.is_(None)))).all()
    for row_id, period in rows:
        start, end, due = _window(period, due_day)
        connection.execute(snapshot.update().where(snapshot.c.id == row_id)
                           .values(window_start=start, window_end=end, due_on=due))
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        for name in ("window_start", "window_end", "due_on"):
            batch_op.alter_column(name, existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table("report_snapshot", schema=None) as batch_op:
        for name in ("window_start", "window_end", "due_on"):
            batch_op.alter_column(name, existing_type=sa.Date(), nullable=True)
