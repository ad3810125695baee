"""The app shell: the files the service worker precaches, and their compressed size."""
import gzip
import re
from pathlib import Path

from server.js_comments import without_comments

PWA = Path(__file__).resolve().parents[2] / "pwa"
BUDGET = 150 * 1024


def precached() -> list[str]:
    """The URLs listed in sw.js's SHELL."""
    block = re.search(r"const SHELL = \[(.*?)\];", (PWA / "sw.js").read_text(encoding="utf-8"), re.S).group(1)
    return re.findall(r"'([^']+)'", block)


def shell_files() -> list[Path]:
    """The files of the shell: everything precached, plus sw.js itself."""
    files = [PWA / "index.html" if url == "/" else PWA / url.lstrip("/") for url in precached()]
    return files + [PWA / "sw.js"]


def compressed_size() -> tuple[int, int]:
    """(raw bytes, gzip -9 bytes) of the whole shell, file by file as a server would send them (its
    scripts without comments, server/js_comments.py)."""
    raw = packed = 0
    for path in shell_files():
        data = path.read_bytes()
        if path.suffix == ".js":
            data = without_comments(data.decode("utf-8")).encode("utf-8")
        raw += len(data)
        packed += len(gzip.compress(data, 9))
    return raw, packed
