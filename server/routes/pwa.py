"""Serve the offline app's static files from pwa/."""
from pathlib import Path

from flask import Blueprint, send_from_directory

PWA_DIR = Path(__file__).resolve().parent.parent.parent / "pwa"
bp = Blueprint("pwa", __name__)


@bp.get("/")
def index():
    """Serve the app shell."""
    return send_from_directory(PWA_DIR, "index.html")


@bp.get("/<path:filename>")
def static_file(filename: str):
    """Serve one file of the app (404 for anything outside pwa/)."""
    response = send_from_directory(PWA_DIR, filename)
    if filename == "sw.js":
        response.headers["Cache-Control"] = "no-cache"
    return response
