"""The one error envelope: every failure leaves as {"error": {code, message, fields?}}."""
import logging
import re

from flask import Flask, jsonify
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: ("bad_request", "请求格式错误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限"),
    404: ("not_found", "记录不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "记录已被修改"),
    410: ("gone", "资源已失效"),
    413: ("payload_too_large", "请求内容过大（上限 5 MB）"),
    415: ("unsupported_media_type", "请使用 JSON 格式（application/json）"),
    416: ("range_not_satisfiable", "请求的范围超出内容长度"),
    422: ("validation_error", "提交的数据有误"),
    429: ("too_many_requests", "尝试次数过多，请稍后再试"),
}


EXPLAINING_HEADERS = frozenset({"Allow", "Content-Range", "Retry-After", "WWW-Authenticate"})


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "error"


class ApiError(Exception):
    """A failure a client should see: status, machine code, Chinese message, per-field errors."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 fields: dict | None = None, headers: dict | None = None):
        default_code, default_message = HTTP_CODES.get(status, ("error", "请求失败"))
        super().__init__(code or default_code)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.fields = fields
        self.headers = headers or {}

    def to_dict(self) -> dict:
        """Return the envelope body."""
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}


def not_found() -> ApiError:
    """Return the 404 used for missing and out-of-scope records alike."""
    return ApiError(404)


def validation_error(fields: dict, message: str | None = None) -> ApiError:
    """Return a 422 carrying per-field messages."""
    return ApiError(422, "validation_error", message, fields=flat_fields(fields))


def flat_fields(messages) -> dict[str, list[str]]:
    """Return field messages in API.md's shape, a list of messages a field: a nested field is named
    by its dotted path (guardians.0.phone), messages for the whole record go under `_schema`."""
    flat: dict[str, list[str]] = {}

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value):
            for index, inner in enumerate(value):
                walk(inner, f"{path}.{index}" if path else str(index))
        else:
            messages = value if isinstance(value, list | tuple) else [str(value)]
            flat.setdefault(path or "_schema", []).extend(messages)
    walk(messages, "")
    return flat


def _respond(err: ApiError):
    response = jsonify(err.to_dict())
    response.status_code = err.status
    for key, value in err.headers.items():
        response.headers[key] = value
    return response


def register_errorhandlers(app: Flask) -> None:
    """Route every exception, 500s included, to the envelope."""

    @app.errorhandler(ApiError)
    def handle_api_error(err: ApiError):
        return _respond(err)

    @app.errorhandler(ValidationError)
    def handle_validation(err: ValidationError):
        return _respond(validation_error(err.messages))

    @app.errorhandler(StaleDataError)
    def handle_stale(err: StaleDataError):
        # Another request changed the record between this one's read and its write; the failed
        # flush leaves the session to roll back before the session cookie is saved.
        _roll_back()
        return _respond(ApiError(409, "version_conflict", "记录已被他人修改，请刷新后再编辑"))

    @app.errorhandler(HTTPException)
    def handle_http(err: HTTPException):
        status = err.code or 500
        if status >= 500:
            # The server failed (werkzeug's InternalServerError, NotImplemented…): not the
            # caller's malformed request.
            log.error("server error %s: %s", status, type(err).__name__)
            return _respond(ApiError(500, "internal_error", "服务器内部错误"))
        # A client error keeps its own status and the headers that explain it (Allow on a 405,
        # Content-Range on a 416, Retry-After on a 429): turning it into a 400 hides what to fix.
        kept = {key: value for key, value in err.get_headers() if key in EXPLAINING_HEADERS}
        code = None if status in HTTP_CODES else _snake(err.name)
        return _respond(ApiError(status, code, None if code is None else "请求无法处理", headers=kept))

    @app.errorhandler(OperationalError)
    def handle_busy(err: OperationalError):
        from .database import is_transient

        if not is_transient(err):
            return handle_unexpected(err)
        # Nothing was written, and the same request may well pass a moment later (a phone's sync
        # retries a 503).
        _roll_back()
        log.warning("database busy: %s %s", type(err.orig).__name__, getattr(err.orig, "sqlstate", ""))
        return _respond(ApiError(503, "busy", "服务器繁忙，请稍后重试", headers={"Retry-After": "5"}))

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception):
        log.exception("unhandled error: %s", type(err).__name__)
        _roll_back()
        return _respond(ApiError(500, "internal_error", "服务器内部错误"))


def _roll_back() -> None:
    """Leave a failed request's session clean, so nothing after it (the session cookie, the
    teardown) flushes what failed."""
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the answer still goes out; the connection is discarded
        log.warning("rollback after a failed request failed")
