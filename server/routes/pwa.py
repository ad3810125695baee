"""Serve the offline app's static files from pwa/."""
from pathlib import Path

from flask import Blueprint, send_from_directory
from werkzeug.routing import PathConverter

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
    response = send_from_directory(PWA_DIR, filename)
    if filename == "sw.js":
        response.headers["Cache-Control"] = "no-cache"
    return response
