"""Uploading inspection photos: whole images of each type are kept, anything else refused and not stored."""
import uuid

from ..images import WEBP_LOSSLESS, WEBP_LOSSY, jpeg, png
from ..routes.helpers import snapshot
from .test_enforcement import inspect
from .test_images import NOT_IMAGES

NOT_AN_IMAGE = {"error": {"code": "not_an_image", "message": "只能上传 JPEG、PNG 或 WebP 图片"}}
CLAIMED_TYPES = {b"\xff\xd8": "image/jpeg", b"\x89P": "image/png", b"RI": "image/webp"}


def upload(api, url: str, content: bytes):
    """POST the bytes as a new photo, with the Content-Type their first bytes claim."""
    mime = CLAIMED_TYPES.get(content[:2], "application/octet-stream")
    return api.post(url, data=content, headers={"Content-Type": mime, "X-Photo-Id": str(uuid.uuid4())})


def test_a_photo_that_is_not_a_whole_image_is_refused_and_not_stored(app, town, login):
    api = login("inspector")
    inspection = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    url = f"/api/inspections/{inspection['id']}/photos"
    kept = upload(api, url, png(seed=1))
    assert kept.status_code == 201, kept.get_json()
    before = snapshot(app, ("attachment", "audit_event"))
    answers = {name: upload(api, url, content) for name, content in NOT_IMAGES.items()}
    assert {name: (a.status_code, a.get_json()) for name, a in answers.items()} == {
        name: (415, NOT_AN_IMAGE) for name in NOT_IMAGES}
    assert [p["id"] for p in api.get(url).get_json()["rows"]] == [kept.get_json()["id"]]
    assert snapshot(app, ("attachment", "audit_event")) == before


def test_whole_images_of_each_type_are_stored_with_their_type(app, town, login):
    api = login("inspector")
    inspection = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    url = f"/api/inspections/{inspection['id']}/photos"
    images = {"jpeg": jpeg(), "png": png(), "webp lossy": WEBP_LOSSY, "webp lossless": WEBP_LOSSLESS}
    answers = {name: upload(api, url, content) for name, content in images.items()}
    assert {name: (a.status_code, a.get_json()["mime"], a.get_json()["size"]) for name, a in answers.items()} \
        == {"jpeg": (201, "image/jpeg", len(images["jpeg"])), "png": (201, "image/png", len(images["png"])),
            "webp lossy": (201, "image/webp", len(WEBP_LOSSY)),
            "webp lossless": (201, "image/webp", len(WEBP_LOSSLESS))}
    rows = api.get(url).get_json()["rows"]
    assert sorted(p["id"] for p in rows) == sorted(a.get_json()["id"] for a in answers.values())
    stored = {name: api.get(f"/api/photos/{a.get_json()['id']}") for name, a in answers.items()}
    assert {name: (r.mimetype, r.data) for name, r in stored.items()} == {
        name: (answers[name].get_json()["mime"], images[name]) for name in images}
