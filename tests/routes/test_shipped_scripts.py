"""The app's JavaScript goes to phones without its comments, and with nothing else changed."""
import shutil
import subprocess

import pytest
import rjsmin

from server.js_comments import comment_spans, without_comments

from ..browser.shell import PWA, shell_files

SCRIPTS = [p for p in shell_files() if p.suffix == ".js"]


def test_only_comments_are_left_out_in_these_cases():
    source = "\n".join([
        "// a comment alone",
        "/** a block",
        " *  over lines */",
        "const a = `x  // kept ${b + `in  /* kept */ ner`} y",
        "  // kept: template text`;  // trailing",
        "const r = /\\/\\/ [a-z/]+/g.test(s) / 2; /* inline */ const q = '/* kept */' + \"// kept\";",
        "if (x) return /[/*]+/.exec(y); const d = a / b / c;",
        "const e = {} / 1, f = (g) / 2;  const h = i/* tight */+j;",
        "  /* alone, indented */",
        "end();",
    ])
    assert without_comments(source) == "\n".join([
        "const a = `x  // kept ${b + `in  /* kept */ ner`} y",
        "  // kept: template text`;",
        "const r = /\\/\\/ [a-z/]+/g.test(s) / 2;  const q = '/* kept */' + \"// kept\";",
        "if (x) return /[/*]+/.exec(y); const d = a / b / c;",
        "const e = {} / 1, f = (g) / 2;  const h = i +j;",
        "end();",
    ])


@pytest.mark.parametrize("source, sent", [
    ("const x = i++ / n; // half\n", "const x = i++ / n;\n"),  # after ++ or -- a `/` divides
    ("const y = left-- / 2 + '/' + \"//kept\";\n", "const y = left-- / 2 + '/' + \"//kept\";\n"),
    ("export default /'/; // quote\n", "export default /'/;\n"),
    ("const z = o.in / 2; /* a property */\n", "const z = o.in / 2;\n"),
    # A line break a statement ends at stays: return /*…*/ 1 returns nothing.
    ("function f() { return /*\n*/ 1 }\n", "function f() { return \n 1 }\n"),
])
def test_what_reads_otherwise_as_a_regular_expression_or_joins_statements(source, sent):
    assert without_comments(source) == sent


@pytest.mark.parametrize("source", ["const a = 'open", "const a = `open", "/* open", "x = /open\n/"])
def test_what_does_not_read_as_javascript_is_refused_not_cut(source):
    with pytest.raises(ValueError):
        comment_spans(source)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(PWA)))
def test_every_script_of_the_shell_keeps_its_code_and_parses(path):
    """A minifier that reads JavaScript its own way finds the same code, to the space it keeps, in
    the script as sent and as written; node parses what is sent."""
    source = path.read_text(encoding="utf-8")
    sent = without_comments(source)
    assert rjsmin.jsmin(sent) == rjsmin.jsmin(source)
    assert "/**" not in sent
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the parse check needs it")
    kind = [] if path.name == "sw.js" else ["--input-type=module"]
    parsed = subprocess.run(["node", *kind, "--check"], input=sent.encode(), capture_output=True, timeout=60)
    assert parsed.returncode == 0, parsed.stderr.decode()


def test_a_script_is_served_without_comments_and_revalidated_by_its_etag(client):
    path = PWA / "js" / "drafts.js"
    response = client.get("/js/drafts.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.get_data(as_text=True) == without_comments(path.read_text(encoding="utf-8"))
    again = client.get("/js/drafts.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    sw = client.get("/sw.js")
    assert sw.headers["Cache-Control"] == "no-cache"  # a new release is found at once
    assert sw.get_data(as_text=True) == without_comments((PWA / "sw.js").read_text(encoding="utf-8"))
    for missing in ("/js/no-such.js", "/js/../../server/__init__.js"):
        assert client.get(missing).status_code == 404


def test_a_script_the_reader_cannot_follow_is_sent_as_written(client, monkeypatch, tmp_path, caplog):
    """A script that failed to load would stop the app's update on every phone: better its comments,
    and the server log says which (by its name only)."""
    from server.routes import pwa

    (tmp_path / "js").mkdir()
    odd = "const a = 'not closed\n// a comment\n"
    (tmp_path / "js" / "odd.js").write_text(odd, encoding="utf-8")
    monkeypatch.setattr(pwa, "PWA_DIR", tmp_path)
    response = client.get("/js/odd.js")
    assert (response.status_code, response.get_data(as_text=True)) == (200, odd)
    assert [r.getMessage() for r in caplog.records if r.name == "server.routes.pwa"] == [
        "sending odd.js with its comments: unterminated string"]
