"""What every view shares: parse the JSON body and query with a schema, find the caller."""
import json

from flask import request
from flask_login import current_user
from marshmallow import Schema

from ..errors import ApiError, validation_error
from ..schemas.text import ESCAPED_BAD_TEXT, Unusable, holds_bad_text, text_problems


def json_body(schema: Schema, partial: bool = False, each: str | None = None) -> dict:
    """Return the request's JSON object loaded by `schema`, or raise the envelope's 4xx.

    Unusable text refuses the whole body, except in the items of the list `each`, which the caller
    takes one by one (a push's ops): such an item comes as `Unusable`, for the caller to refuse.
    """
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
    if ESCAPED_BAD_TEXT.search(text):
        items = data.get(each) if each else None
        if isinstance(items, list):
            data[each] = [Unusable(item) if holds_bad_text(item) else item for item in items]
        problems = text_problems({key: value for key, value in data.items()
                                  if key != each or not isinstance(items, list)})
        if problems:
            raise validation_error(problems)
    return schema.load(data, partial=partial)


def query_args(schema: Schema) -> dict:
    """Return the query string loaded by `schema`; an empty value is no value (API.md writes
    `?period=&village_id=` for "optional")."""
    args = {name: value for name, value in request.args.to_dict().items() if value != ""}
    problems = text_problems(args)
    if problems:
        raise validation_error(problems)
    return schema.load(args)


def actor():
    """Return the logged-in user (views are behind login_required)."""
    return current_user._get_current_object()


def device_id() -> str | None:
    """Return the device the caller's session was opened on."""
    return getattr(current_user, "device_id", None)


def api_doc(body=None, query=None, response=None, status: int = 200, headers=(), refusals=None):
    """Attach the schemas of a view, its headers and named refusals, for the OpenAPI document."""
    def decorate(view):
        view.api_doc = {"body": body, "query": query, "response": response, "status": status,
                        "headers": list(headers), "refusals": refusals or {}}
        return view
    return decorate
