"""What every view shares: parse the JSON body and query with a schema, find the caller."""
from flask import request
from flask_login import current_user
from marshmallow import Schema

from ..errors import ApiError


def json_body(schema: Schema, partial: bool = False) -> dict:
    """Return the request's JSON object loaded by `schema`, or raise the envelope's 4xx."""
    if not request.is_json:
        raise ApiError(415)
    raw = request.get_data(cache=True)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "请求内容不是有效的 UTF-8") from None
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_json", "请求内容不是有效的 JSON")
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "请求内容应为 JSON 对象")
    return schema.load(data, partial=partial)


def query_args(schema: Schema) -> dict:
    """Return the query string loaded by `schema`."""
    return schema.load(request.args.to_dict())


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
