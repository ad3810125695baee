"""Reading and checking the versioned JSON data files (checklist templates, risk rules): each
problem names the file and the place in it, and stops the load."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def fail(where: str, message: str) -> None:
    """Refuse the data file at `where`."""
    raise ValueError(f"{where}: {message}")


def require_text(value: Any, where: str, field: str) -> None:
    """Refuse a field that is not a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        fail(where, f"'{field}' must be a non-empty string")


def require_positive_int(value: Any, where: str, field: str) -> None:
    """Refuse a field that is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        fail(where, f"'{field}' must be a positive integer, got {value!r}")


def require_key(key: Any, where: str, what: str) -> str:
    """Refuse a key that is not snake_case; return it."""
    if not isinstance(key, str) or not KEY_RE.match(key):
        fail(where, f"{what} key {key!r} must be snake_case")
    return key


def require_new_key(key: Any, seen: set[str], where: str, what: str) -> str:
    """Refuse a key that is not snake_case or is already in `seen` (its list's keys so far); add it."""
    require_key(key, where, what)
    if key in seen:
        fail(where, f"duplicate {what} key '{key}'")
    seen.add(key)
    return key


def read_json(path: Path) -> Any:
    """Return a data file's JSON, or refuse it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc})") from exc
