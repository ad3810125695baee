"""What every view shares: parse the JSON body and query with a schema, find the caller."""
import json
import re

from flask import request
from flask_login import current_user
from marshmallow import Schema

from ..errors import ApiError, validation_error

BAD_TEXT = "含有无效字符"
# Valid JSON can carry NUL or a surrogate only as a \u escape (raw control characters and
# surrogates do not parse or decode), so a body without one needs no walk through its strings.
_ESCAPED_BAD_TEXT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _bad_text(value: str) -> bool:
    """Say whether a string holds NUL or a lone surrogate (neither is storable or printable)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _holds_bad_text(value) -> bool:
    """Say whether a JSON value holds unusable text anywhere (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _text_problems(data: dict) -> dict:
    """Return {top-level field: [message]} for every field holding unusable text."""
    problems = {}
    for key, value in data.items():
        if _bad_text(key):
            problems["_schema"] = [BAD_TEXT]
        elif _holds_bad_text(value):
            problems[key] = [BAD_TEXT]
    return problems


def json_body(schema: Schema, partial: bool = False) -> dict:
    """Return the request's JSON object loaded by `schema`, or raise the envelope's 4xx."""
    if not request.is_json:
        raise ApiError(415)
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "请求内容不是有效的 UTF-8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_json", "请求内容不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "请求内容应为 JSON 对象")
    problems = _text_problems(data) if _ESCAPED_BAD_TEXT.search(text) else None
    if problems:
        raise validation_error(problems)
    return schema.load(data, partial=partial)


def query_args(schema: Schema) -> dict:
    """Return the query string loaded by `schema`; an empty value is no value (API.md writes
    `?period=&village_id=` for "optional")."""
    args = {name: value for name, value in request.args.to_dict().items() if value != ""}
    problems = _text_problems(args)
    if problems:
        raise validation_error(problems)
    return schema.load(args)


def actor():
    """Return the logged-in user (views are behind login_required)."""
    return current_user._get_current_object()


def device_id() -> str | None:
    """Return the device the caller's session was opened on."""
    return getattr(current_user, "device_id", None)


def api_doc(body=None, query=None, response=None, status: int = 200):
    """Attach the schemas of a view, for the OpenAPI document."""
    def decorate(view):
        view.api_doc = {"body": body, "query": query, "response": response, "status": status}
        return view
    return decorate
