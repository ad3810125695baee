"""The serving process's request log holds no query string: a ledger search is a child's name, an
unmasked export's reason is why someone's identity was opened."""
import logging
import socket
import threading
import urllib.request
from urllib.parse import quote

from werkzeug.serving import make_server

from server import request_log


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _logged(app, werkzeug_log, query: str, raw_line: str) -> str:
    """Serve `app` on a real werkzeug server; ask /api/health with `query`, send `raw_line` as a
    request line as typed; return what the request log wrote."""
    logger, lines = werkzeug_log, Lines()
    logger.addHandler(lines)
    level, logger.level = logger.level, logging.INFO
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/api/health?{query}") as response:
            assert response.status == 200
        with socket.create_connection(("127.0.0.1", server.server_port)) as raw:
            raw.sendall(f"{raw_line}\r\n\r\n".encode())
            raw.recv(1024)
    finally:
        server.shutdown()
        thread.join()
        logger.removeHandler(lines)
        logger.level = level
    return "\n".join(lines.lines)


def test_the_request_log_leaves_out_query_strings(app, werkzeug_log):
    """The log line keeps the path and answer; what followed the `?` is not written, for a request
    answered and for one refused as malformed (werkzeug logs its raw line). `serving_app` installs
    the filter (test_smoke); installed twice, it filters once."""
    request_log.install()
    request_log.install()
    assert sum(isinstance(f, request_log.WithoutQuery) for f in werkzeug_log.filters) == 1
    text = _logged(app, werkzeug_log, f"q={quote('欧阳明月')}&reason={quote('核查身份')}",
                   "GET /api/ledgers/children?q=simaxiaoyu HTTP/1.1 extra")
    assert '"GET /api/health?… HTTP/1.1" 200' in text
    assert "/api/ledgers/children?…" in text
    # A raw line is read as Latin-1, so its secrets are ASCII here: Chinese would be logged garbled.
    for secret in ("欧阳明月", "核查身份", "simaxiaoyu", quote("欧阳明月"), "q=", "reason="):
        assert secret not in text


def test_a_quote_in_the_query_does_not_end_what_is_left_out(app, werkzeug_log):
    """Werkzeug decodes the path it logs (%22 becomes ", %27 becomes '): a search or an unmasked
    export's reason with a quote in it is left out whole, not up to the quote. So is the rest of a
    malformed request's raw line after a space in its query."""
    request_log.install()
    searched, reason = quote('欧阳"明月'), quote("法院'调取'司马小雨户籍")
    text = _logged(app, werkzeug_log, f"q={searched}&reason={reason}",
                   "GET /api/ledgers/children?q=zhuge xiaodong HTTP/1.1")
    assert '"GET /api/health?… HTTP/1.1" 200' in text
    assert "/api/ledgers/children?…" in text
    for secret in ("明月", "司马小雨", "调取", "xiaodong", "reason="):
        assert secret not in text, text


def test_a_protocol_written_into_the_query_does_not_end_what_is_left_out(app, werkzeug_log):
    """A query holding " HTTP/1" (after an ideographic space, a no-break space or a plain one) is
    still left out whole: the request line ends at its last protocol."""
    request_log.install()
    searched = quote("\u3000HTTP/1\u3000欧阳明月 HTTP/1.1 司马小雨\u00a0HTTP/1 诸葛晓东")
    text = _logged(app, werkzeug_log, f"q={searched}",
                   "GET /api/ledgers/children?q=jiajia HTTP/1 yiyiyi HTTP/1.1")
    assert '"GET /api/health?… HTTP/1.1" 200' in text
    for secret in ("欧阳明月", "司马小雨", "诸葛晓东", "jiajia", "yiyiyi"):
        assert secret not in text, text


def test_a_malformed_line_whose_query_holds_a_space_names_nothing_of_it(app, werkzeug_log):
    """A request line of three words whose last is not a protocol: werkzeug logs only that word, as
    the version it refuses, and it is what was searched."""
    request_log.install()
    text = _logged(app, werkzeug_log, "q=1", "GET /api/ledgers/children?q=ouyang mingyue")
    assert "Bad request version (…)" in text
    assert "mingyue" not in text and "ouyang" not in text, text
