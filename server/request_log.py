"""The serving process's request log, without query strings.

Werkzeug (`make run`) logs each request line. A query may hold what must not be written in plain
text: a child's name searched in a ledger (`q`), the reason given for an unmasked export."""
import logging
import re

# Up to the last protocol in the line (the query is logged decoded: it may hold spaces, quotes and
# "HTTP/1" of its own), else to the end of a raw line werkzeug quotes, else to the end.
QUERY = re.compile(r"\?.*(?= HTTP/\d)|\?.*?(?=['\"]\)?$|$)")


# A malformed request line is refused naming the word it could not read, which may be a query's
# (three words, the query holding a space: the last is taken for the protocol version).
REFUSED_WORD = re.compile(r"^((?:Bad request version|Unsupported method|Invalid HTTP version"
                          r"|Bad HTTP/0\.9 request type) )\(.*\)$", re.S)


def _without_query(text: str) -> str:
    return REFUSED_WORD.sub(r"\1(…)", QUERY.sub("?…", text))


class WithoutQuery(logging.Filter):
    """Drop the query string from every text argument of a log record (a request line, the raw line
    of a request refused as malformed), and the word a malformed request was refused for."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install() -> None:
    """Filter werkzeug's request log (once per process)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, WithoutQuery) for f in logger.filters):
        logger.addFilter(WithoutQuery())
