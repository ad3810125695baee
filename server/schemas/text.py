"""Unusable text in a request: NUL or a lone surrogate, neither storable nor printable."""
import re

BAD_TEXT = "含有无效字符"
# Valid JSON can carry NUL or a surrogate only as a \u escape (raw control characters and
# surrogates do not parse or decode), so a body without one needs no walk through its strings.
ESCAPED_BAD_TEXT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def bad_text(value: str) -> bool:
    """Say whether a string holds NUL or a lone surrogate (neither is storable or printable)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def holds_bad_text(value) -> bool:
    """Say whether a JSON value holds unusable text anywhere (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def text_problems(data: dict) -> dict:
    """Return {top-level field: [message]} for every field holding unusable text."""
    problems = {}
    for key, value in data.items():
        if bad_text(key):
            problems["_schema"] = [BAD_TEXT]
        elif holds_bad_text(value):
            problems[key] = [BAD_TEXT]
    return problems


class Unusable:
    """An item of a list checked one by one (`json_body(each=...)`) that holds unusable text: the
    caller refuses it alone, as it refuses any other bad item, and takes the rest."""

    def __init__(self, item):
        self.item = item
