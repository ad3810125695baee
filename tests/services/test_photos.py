"""Uploading inspection photos: whole images of each type are kept, without their metadata; anything
else is refused and not stored."""
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Town
from server.services.photos import NOT_STRIPPED

from .. import factories
from ..images import (
    PHONE_MAKE,
    WEBP_LOSSLESS,
    WEBP_LOSSY,
    exif_tiff,
    jpeg,
    jpeg_from_phone,
    png,
    png_chunk,
    webp_chunk,
    webp_extended,
)
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


def test_photos_are_stored_and_served_without_where_when_and_on_which_phone_they_were_taken(app, town, login):
    api = login("inspector")
    inspection = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    url = f"/api/inspections/{inspection['id']}/photos"
    plain_png, webp_picture = png(24, 16, seed=4), WEBP_LOSSY[12:]
    tagged = {"jpeg": jpeg_from_phone(64, 48, orientation=6),
              "png": plain_png[:33] + png_chunk(b"eXIf", exif_tiff()) + png_chunk(b"tEXt", PHONE_MAKE)
              + plain_png[33:],
              "webp": webp_extended(0x08, webp_picture, webp_chunk(b"EXIF", exif_tiff()))}
    clean = {"jpeg": jpeg(64, 48), "png": plain_png, "webp": webp_extended(0, webp_picture)}
    answers = {name: upload(api, url, content) for name, content in tagged.items()}
    assert {name: (a.status_code, a.get_json()["size"]) for name, a in answers.items()} == {
        name: (201, len(content)) for name, content in clean.items()}
    served = {name: api.get(f"/api/photos/{a.get_json()['id']}").data for name, a in answers.items()}
    assert served == clean
    for content in served.values():
        assert b"Exif" not in content and exif_tiff() not in content and PHONE_MAKE not in content
    assert sorted(p["size"] for p in api.get(url).get_json()["rows"]) == sorted(map(len, clean.values()))
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "photo.create")).all()
        assert sorted(e.detail["size"] for e in events) == sorted(map(len, clean.values()))


def test_a_photo_whose_stripped_bytes_are_no_whole_image_is_refused_and_not_stored(app, town, login,
                                                                                   monkeypatch):
    api = login("inspector")
    inspection = inspect(api, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    url = f"/api/inspections/{inspection['id']}/photos"
    monkeypatch.setattr("server.services.photos.strip_metadata", lambda content, mime: content[:30])
    before = snapshot(app, ("attachment", "audit_event"))
    answer = upload(api, url, jpeg_from_phone())
    assert (answer.status_code, answer.get_json()) == (
        415, {"error": {"code": "not_an_image", "message": NOT_STRIPPED}})
    assert snapshot(app, ("attachment", "audit_event")) == before


def test_only_the_inspector_adds_photos_to_an_inspection_even_one_replaced(app, town, login):
    """Another inspector who may read an inspection may not add evidence to it (nor amend it); its
    author may, also to one a correction replaced since (its photos were queued on the phone)."""
    with app.app_context():
        factories.add_user(town, "inspector2", "inspector", db.session.scalar(select(Town.id)))
        db.session.commit()
    author, other = login("inspector"), login("inspector2")
    first = inspect(author, town.venues["a"], [{"item": "verify_identity", "result": "fail"}])
    fixed = inspect(author, town.venues["a"], [{"item": "verify_identity", "result": "pass"}],
                    amends=first["id"], amend_reason="误选")
    before = snapshot(app, ("attachment", "audit_event"))
    for target in (first["id"], fixed["id"]):
        answer = upload(other, f"/api/inspections/{target}/photos", png(seed=3))
        assert (answer.status_code, answer.get_json()) == (403, {"error": {
            "code": "not_allowed", "message": "只有这次检查的检查人可以上传它的照片"}})
    assert snapshot(app, ("attachment", "audit_event")) == before
    kept = upload(author, f"/api/inspections/{first['id']}/photos", png(seed=3))
    assert kept.status_code == 201, kept.get_json()
    assert [p["id"] for p in other.get(f"/api/inspections/{first['id']}/photos").get_json()["rows"]] == [
        kept.get_json()["id"]]
