"""Serve the offline app's static files from pwa/ (its JavaScript without comments)."""
import hashlib
import io
import logging
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, send_file, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from ..js_comments import without_comments

log = logging.getLogger(__name__)
PWA_DIR = Path(__file__).resolve().parent.parent.parent / "pwa"
bp = Blueprint("pwa", __name__)


class AppPathConverter(PathConverter):
    """A path of the app's files, never one under api/: an unknown API URL stays a 404, and a
    wrong method on an API URL a 405, instead of falling through to the static files."""

    regex = r"(?!api(?:/|$))[^/].*?"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("app_path", AppPathConverter))


@bp.get("/")
def index():
    """Serve the app shell."""
    return send_from_directory(PWA_DIR, "index.html")


@bp.get("/<app_path:filename>")
def static_file(filename: str):
    """Serve one file of the app (404 for anything outside pwa/)."""
    response = _script(filename) if filename.endswith(".js") else send_from_directory(PWA_DIR, filename)
    if filename == "sw.js":
        response.headers["Cache-Control"] = "no-cache"
    return response


def _script(filename: str):
    path = safe_join(str(PWA_DIR), filename)
    if path is None or not Path(path).is_file():
        raise NotFound()
    stat = Path(path).stat()
    body, etag = _shipped(path, stat.st_mtime_ns, stat.st_size)
    return send_file(io.BytesIO(body), mimetype="text/javascript", etag=etag, last_modified=stat.st_mtime,
                     max_age=None)


@lru_cache(maxsize=256)
def _shipped(path: str, mtime_ns: int, size: int) -> tuple[bytes, str]:
    """A script as phones get it, read again when the file changes (its time or size). One the reader
    cannot follow goes as written: a script that fails to load would stop the app's update."""
    source = Path(path).read_text(encoding="utf-8")
    try:
        body = without_comments(source).encode("utf-8")
    except ValueError as err:
        log.warning("sending %s with its comments: %s", Path(path).name, err)
        body = source.encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:32]
