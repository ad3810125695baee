"""A clue form any user can file (DESIGN), over REST as over sync; only police and the town office
read clues back."""
import uuid

import pytest

from .helpers import assert_error

FILERS = ("worker_a", "head_a", "inspector", "police", "admin")


@pytest.mark.parametrize("username", FILERS)
def test_anyone_files_a_clue_over_rest_and_only_police_and_the_town_office_read_it(town, login, username):
    filer = login(username)
    clue_id = str(uuid.uuid4())
    response = filer.post("/api/clues", json={"id": clue_id, "description": f"{username} 发现可疑情况",
                                              "place": "村口小卖部"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["id"], body["description"], body["place"], body["status"]) == (
        clue_id, f"{username} 发现可疑情况", "村口小卖部", "new")
    reads = filer.get(f"/api/clues/{clue_id}")
    if username in ("police", "admin"):
        assert reads.get_json()["description"] == f"{username} 发现可疑情况"
    else:
        assert_error(reads, 404, "not_found")
        assert_error(filer.get("/api/clues"), 404, "not_found")
    assert login("police").get(f"/api/clues/{clue_id}").get_json()["reporter_id"] == town.users[username]


def test_a_clue_with_a_bad_field_is_refused_and_nothing_is_filed(town, login):
    worker = login("worker_a")
    assert_error(worker.post("/api/clues", json={"description": ""}), 422, "validation_error",
                 field_names={"description"})
    assert_error(worker.post("/api/clues", json={"description": "x", "child_id": town.children["b1"]}), 422,
                 "validation_error", field_names={"child_id"})
    assert len(login("police").get("/api/clues").get_json()["rows"]) == 1


def test_a_clue_says_whom_it_is_about_to_the_police_masked_to_the_town_office_not_to_its_filer(town, login):
    """The police act on a clue and read no child records: the clue names the child as the register
    had it when filed. The town office reads it masked, as it reads the register; the filer, who
    reads no clue back, is answered without it. A correction keeps it."""
    worker = login("worker_a")
    clue_id = str(uuid.uuid4())
    filed = worker.post("/api/clues", json={"id": clue_id, "description": "孩子身上有伤", "place": "家中",
                                            "child_id": town.children["a1"]})
    assert filed.status_code == 201, filed.get_json()
    assert "subject" not in filed.get_json()
    subject = {"name": "欧阳明月", "sex": "F", "birth_date": "2015-01-01", "village": "测试A村",
               "address": "测试镇a1组2号槐花巷"}
    police, admin = login("police"), login("admin")
    assert police.get(f"/api/clues/{clue_id}").get_json()["subject"] == subject
    assert admin.get(f"/api/clues/{clue_id}").get_json()["subject"] == {**subject, "name": "欧**月"}
    fixed = worker.post("/api/clues", json={"description": "孩子身上有伤，已就医", "amends": clue_id,
                                            "amend_reason": "补充情况"}).get_json()
    assert police.get(f"/api/clues/{fixed['id']}").get_json()["subject"] == subject
    unlinked = worker.post("/api/clues", json={"description": "听说有人欺负小孩", "place": "河边"}).get_json()
    assert police.get(f"/api/clues/{unlinked['id']}").get_json()["subject"] is None
