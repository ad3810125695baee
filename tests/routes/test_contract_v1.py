"""Points of the v1 contract (../shared/API.md) the server once departed from: each test quotes
the line it holds the server to."""
import uuid

from ..sync.test_push_pull_basics import op, push
from .helpers import assert_error

BAD_GUARDIAN = [{"name": "王大山", "relation": "祖父", "phone": "12"}]
ITS_ERROR = {"guardians.0.phone": ["电话号码格式不正确"]}


# --- Per-field errors ------------------------------------------------------------------------

def test_push_rejection_errors_are_per_field_lists(town, login):
    """API.md: "`rejected`: invalid or not allowed; `errors` says why, per field", in the
    envelope's shape `"fields": {"name": ["…"]}`: a nested field is named by its dotted path."""
    phone = login("worker_a", device_id="phone-worker-a-0001")
    home = str(uuid.uuid4())
    result = push(phone, [op("household", "create", home, {
        "grid_id": town.grids["a1"], "address": "测试镇新登记户", "guardians": BAD_GUARDIAN})])["results"]
    assert result == [{"op_id": result[0]["op_id"], "status": "rejected", "id": None, "version": None,
                       "errors": ITS_ERROR}]


def test_error_envelope_fields_are_lists_of_messages(town, login):
    """API.md: "Errors always have one shape … `"fields": {"name": ["…"]}`"; a client reading
    `fields[name]` as a list of messages shows the first (pwa online.js errorText)."""
    response = login("worker_a").post("/api/households", json={
        "grid_id": town.grids["a1"], "address": "测试镇新登记户", "guardians": BAD_GUARDIAN})
    assert_error(response, 422, "validation_error", fields=ITS_ERROR)


# --- Ledgers ---------------------------------------------------------------------------------

def test_plans_ledger_filters_by_category(town, login):
    """API.md: "GET /api/ledgers/{children,venues,inspections,plans,staff_checks} | filters
    `village_id, grid_id, category, risk_level, overdue=1, q`". The plans ledger (plans are for
    children, who have categories) refuses `category` with 422."""
    head = login("head_a")
    plan = head.post("/api/plans", json={"child_id": town.children["a1"], "helper_id": town.users["worker_a"],
                                         "review_every_days": 30})
    assert plan.status_code == 201, plan.get_json()
    shown = head.get("/api/ledgers/plans?category=left_behind")
    assert shown.status_code == 200, shown.get_json()
    assert plan.get_json()["id"] in [row["id"] for row in shown.get_json()["rows"]]
    other = head.get("/api/ledgers/plans?category=migrant")
    assert other.status_code == 200, other.get_json()
    assert other.get_json()["rows"] == []


# --- Monthly reports -------------------------------------------------------------------------

def test_monthly_report_with_empty_village_id_is_the_town_total(town, login):
    """API.md: "GET /api/reports/monthly?period=YYYY-MM&village_id= | the figures". With
    `village_id=` left empty (as written) the town admin gets 404, while the village head gets
    their own village: the empty argument should mean "not given" (the town total)."""
    admin = login("admin")
    response = admin.get("/api/reports/monthly?period=2026-11&village_id=")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["village_id"] is None
    assert {v["village_id"] for v in body["villages"]} == set(town.villages.values())


def test_monthly_status_with_empty_period_answers_the_period_due_next(town, login):
    """API.md: "GET /api/reports/monthly/status?period= | who has submitted, who is late". The
    URL as written answers 422 (`period`: 月份格式应为 YYYY-MM) although the view falls back to
    the period due next when none is given."""
    admin = login("admin")
    response = admin.get("/api/reports/monthly/status?period=")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["period"] == admin.get("/api/reports/monthly/status").get_json()["period"]


# --- The OpenAPI document --------------------------------------------------------------------

def _spec(login):
    return login("admin").get("/api/openapi.json").get_json()


def _body_schema(spec, path, method):
    ref = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_openapi_patch_bodies_require_nothing(town, login):
    """API.md: "The server also serves its own OpenAPI document at `GET /api/openapi.json`,
    generated from the marshmallow schemas, and it must agree with the running code." PATCH bodies
    are loaded partially (a child edit of `{"school": …}` alone is accepted) but the document marks
    `household_id` and `name` (and the like on every kind) as required."""
    head = login("head_a")
    assert head.edit(f"/api/children/{town.children['a1']}", {"school": "甲小学"}).status_code == 200
    spec = _spec(login)
    required = {path: _body_schema(spec, path, "patch").get("required", [])
                for path in spec["paths"] if "patch" in spec["paths"][path] and path.startswith(
                    ("/api/households/", "/api/children/", "/api/venues/", "/api/operations/",
                     "/api/plans/", "/api/staff_checks/"))}
    assert required and all(not fields for fields in required.values()), required


def test_openapi_documents_the_required_if_match_header(town, login):
    """API.md: "… OpenAPI document … must agree with the running code." Every record PATCH
    answers 428 `version_required` without `If-Match`, yet the document lists no header
    parameter, so a client generated from it cannot make an edit."""
    head = login("head_a")
    refused = head.patch(f"/api/children/{town.children['a1']}", json={"school": "甲小学"})
    assert refused.status_code == 428
    operation = _spec(login)["paths"]["/api/children/{record_id}"]["patch"]
    headers = {p["name"].lower(): p for p in operation.get("parameters", []) if p.get("in") == "header"}
    assert "if-match" in headers and headers["if-match"].get("required") is True
