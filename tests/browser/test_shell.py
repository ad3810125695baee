"""The shell is complete (every screen opens offline) and light (at most 150 KB compressed)."""
from .shell import BUDGET, PWA, compressed_size, precached


def test_every_app_file_is_precached():
    on_disk = {"/" + p.relative_to(PWA).as_posix() for p in PWA.rglob("*") if p.is_file()}
    listed = set(precached())
    assert "/" in listed and "/index.html" in on_disk
    assert on_disk - {"/sw.js", "/index.html"} == listed - {"/"}


def test_shell_is_at_most_150_kb_compressed():
    raw, packed = compressed_size()
    assert packed <= BUDGET, f"shell is {packed} bytes compressed ({raw} raw)"


def test_no_innerhtml_and_no_api_caching():
    for path in (PWA / "js").rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, path
    sw = (PWA / "sw.js").read_text(encoding="utf-8")
    assert "url.pathname.startsWith('/api/')" in sw
