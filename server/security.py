"""Sessions, CSRF and response headers for every request."""
import secrets

from flask import Flask, current_app, g, request, session

from .errors import ApiError
from .extensions import login_manager
from .services import auth

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_EXEMPT = {"/api/auth/login"}
FOREIGN = {"cross-site", "same-site"}


def new_csrf_token() -> str:
    """Put a fresh CSRF token in the session and return it."""
    session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def register_security(app: Flask) -> None:
    """Bind the session loader, the CSRF check and the security headers."""

    @login_manager.user_loader
    def load_user(token: str):
        config = current_app.config
        return auth.load_session(token, config["IDLE_TIMEOUT"], config["PERMANENT_SESSION_LIFETIME"])

    @login_manager.unauthorized_handler
    def unauthorized():
        raise ApiError(401)

    @app.url_value_preprocessor
    def refuse_nul_in_path(endpoint, values):
        # no record id holds NUL, and PostgreSQL refuses it in a query: answer as for a missing id
        if values and any("\x00" in str(value) for value in values.values()):
            raise ApiError(404)

    @app.before_request
    def check_csrf():
        # A page of another site may send the browser here with its cookie (a link, a form, an image):
        # a GET too, and some GETs export or audit. The app's own requests are same-origin; a
        # browser says which a request is (Fetch Metadata), clients without it send nothing.
        if request.path.startswith("/api/") and request.headers.get("Sec-Fetch-Site") in FOREIGN:
            raise ApiError(403, "cross_site", "拒绝来自其他网站的请求，请在本系统中操作")
        if request.method in UNSAFE and request.path not in CSRF_EXEMPT:
            if not auth.csrf_matches(session.get("csrf"), request.headers.get("X-CSRF-Token")):
                raise ApiError(403, "csrf_failed", "缺少或错误的 CSRF 令牌，请刷新后重试")

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                           "frame-ancestors 'none'; base-uri 'self'")
        if request.path.startswith("/api/"):
            headers.setdefault("Cache-Control", "no-store")
        if app.config.get("HULEI_HTTPS"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if g.get("_login_user") is not None and g._login_user.is_authenticated:
            session.permanent = True
        return response
