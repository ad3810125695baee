"""GET /api/openapi.json, built from the registered routes and the marshmallow schemas."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR_ENVELOPE = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object"}}, "required": ["code", "message"]}},
}


def _operation(view, rule, resource: str | None) -> dict:
    by_resource = getattr(view, "api_doc_by_resource", None)
    doc = (by_resource[resource] if by_resource and resource else getattr(view, "api_doc", {})) or {}
    summary = (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else rule.endpoint
    status = str(doc.get("status", 200))
    operation = {"summary": summary, "responses": {
        status: {"description": "OK"},
        "default": {"description": "错误", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}}}
    if doc.get("response"):
        operation["responses"][status]["content"] = {
            "application/json": {"schema": doc["response"]}}
    if doc.get("body"):
        operation["requestBody"] = {"content": {"application/json": {"schema": doc["body"]}}}
    if doc.get("query"):
        operation["parameters"] = [{"in": "query", "schema": doc["query"]}]
    operation.setdefault("parameters", []).extend({"in": "header", **h} for h in doc.get("headers", ()))
    for code, description in doc.get("refusals", {}).items():
        operation["responses"][code] = {"description": description, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
    params = re.findall(r"<(?!any\()(?:[^:<>]+:)?([^<>]+)>", rule.rule)
    operation.setdefault("parameters", []).extend(
        {"in": "path", "name": p, "required": True, "schema": {"type": "string"}} for p in params)
    return operation


def build_spec(app) -> dict:
    """Return the OpenAPI 3 document of every /api route of `app`."""
    spec = APISpec(title="Hulei API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("Error", ERROR_ENVELOPE)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        for path, resource in _expand(rule.rule):
            operations = {m.lower(): _operation(view, rule, resource)
                          for m in sorted(rule.methods - {"HEAD", "OPTIONS"})}
            spec.path(path=path, operations=operations)
    return spec.to_dict()


def _expand(rule: str) -> list[tuple[str, str | None]]:
    match = re.search(r"<any\(([^)]*)\):(\w+)>", rule)
    names = [n.strip() for n in match.group(1).split(",")] if match else [None]
    expanded = [rule.replace(match.group(0), n) if match else rule for n in names]
    return [(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path), name)
            for path, name in zip(expanded, names)]


@bp.get("/openapi.json")
def openapi():
    """Return the OpenAPI document."""
    return build_spec(current_app)
