"""What the benchmarks share: a fresh, throwaway database on SQLite or PostgreSQL."""
import tempfile
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def database(engine: str, pg_url: str | None):
    """Yield a fresh, empty database URL; drop it afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hulei-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    base = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"hulei_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
