"""GET /api/checklists for the phone's offline forms, and the pinyin initials the phone searches."""
from tests.factories import NAMES


def test_checklists_need_login(client, town):
    assert client.get("/api/checklists").status_code == 401


def test_checklists_list_every_template_with_versions(login, town):
    answer = login("worker_a").get("/api/checklists")
    assert answer.status_code == 200
    templates = {t["key"]: t for t in answer.get_json()["templates"]}
    assert templates["home_visit"]["venue_types"] == []
    assert "hotel" in templates["lodging"]["venue_types"]
    assert all(t["version"] >= 1 and t["items"] for t in templates.values())
    lodging = [i["key"] for i in templates["lodging"]["items"]]
    assert lodging[:5] == ["verify_identity", "ask_guardian", "patrol_visitors", "report_suspicious",
                           "contact_guardian"]
    assert all("severity" in i for i in templates["lodging"]["items"])
    kinds = {i["kind"] for i in templates["home_visit"]["items"]}
    assert kinds <= {"bool", "number", "multi"}


def test_children_carry_pinyin_initials(login, town):
    rows = login("worker_a").get("/api/children").get_json()["rows"]
    assert [(r["name"], r["name_initials"]) for r in rows] == [(NAMES["a1"], "oymy")]
