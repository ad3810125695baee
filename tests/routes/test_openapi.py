"""The OpenAPI document agrees with the running app."""
import re


def _app_paths(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        match = re.search(r"<any\(([^)]*)\):\w+>", rule.rule)
        names = [n.strip() for n in match.group(1).split(",")] if match else [None]
        for name in names:
            path = rule.rule.replace(match.group(0), name) if match else rule.rule
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)
            found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_openapi_lists_every_route_with_its_schemas(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"] == "3.0.3"
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == _app_paths(app)
    login = spec["paths"]["/api/auth/login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Login"}
    children = spec["paths"]["/api/children"]["get"]
    assert children["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChildPage"}
    assert {p["name"] for p in children["parameters"]} >= {"page", "per_page", "grid_id", "risk_level"}
    child = spec["components"]["schemas"]["Child"]["properties"]
    assert {"id", "version", "name", "id_number", "risk_level", "next_visit_due"} <= set(child)
    login_fields = spec["components"]["schemas"]["Login"]["properties"]
    assert set(login_fields) == {"username", "password", "device_id"}
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]["required"] == ["code", "message"]
