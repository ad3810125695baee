"""users: one account a username whatever its case, held by the database

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:00:00

Reviewed by hand. create_user refuses a name differing from another only in case (the login
throttle counts failures per name whatever its case), but only in code: two creates racing, or
any write that bypasses it, could still store "Zhang" beside "zhang". A unique index on
lower(username) makes that hold on both engines. Existing twins would make the index fail
halfway; the upgrade looks for them first and stops, naming them, for an admin to rename.
"""
import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "uq_user_lower_username"


def upgrade():
    user = sa.table("user", sa.column("username"))
    lowered = sa.func.lower(user.c.username)
    taken = sa.select(lowered).group_by(lowered).having(sa.func.count() > 1)
    twins: dict[str, list[str]] = {}
    for key, name in op.get_bind().execute(sa.select(lowered, user.c.username).where(lowered.in_(taken))):
        twins.setdefault(key, []).append(name)
    if twins:
        named = "; ".join(", ".join(sorted(twins[key])) for key in sorted(twins))
        raise RuntimeError(
            f"cannot make usernames unique whatever their case: {len(twins)} group(s) of accounts share "
            f"a username differing only in case ({named}). Rename all but one account of each group, "
            "e.g. UPDATE \"user\" SET username = 'zhang2' WHERE username = 'Zhang'; then run the upgrade "
            "again")
    op.create_index(INDEX, "user", [sa.text("lower(username)")], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name="user")
