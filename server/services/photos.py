"""Inspection photos: checked to be images, size-limited, stripped of their metadata, encrypted at
rest, read in scope."""
from sqlalchemy.exc import IntegrityError

from ..config import settings
from ..errors import ApiError
from ..extensions import db
from ..models import Attachment, Inspection
from . import audit, scope
from .images import sniff_image, strip_metadata

NOT_STRIPPED = "无法去除照片中的拍摄信息（位置、时间、设备），照片未保存，请重新拍摄"


def attach_photo(actor, inspection_id: str, photo_id: str, content: bytes,
                 device_id: str | None = None) -> Attachment:
    """Store a photo of an inspection the actor may see and made; a repeated upload returns the first."""
    inspection = scope.get_scoped(actor, Inspection, inspection_id)
    scope.require_write(actor, Inspection, "上传检查照片")
    # A photo is evidence of what its inspector saw there: another's added afterwards would change
    # an inspection, a fact, that no amendment of theirs may (an amendment is its author's only).
    if inspection.inspector_id != actor.id:
        raise ApiError(403, "not_allowed", "只有这次检查的检查人可以上传它的照片")
    existing = db.session.get(Attachment, photo_id)
    if existing is not None:
        return _same_upload(existing, inspection)
    content, mime = _image_to_store(content)
    photo = Attachment(id=photo_id, entity="inspection", entity_id=inspection.id,
                       village_id=inspection.village_id, mime=mime, size=len(content),
                       created_by=actor.id)
    photo.content = content
    try:
        db.session.add(photo)
        audit.record_event("photo.create", actor, "inspection", inspection.id, device_id,
                           detail={"photo_id": photo.id, "size": photo.size, "mime": mime})
        db.session.commit()
    except IntegrityError:
        # The same upload retried at the same moment: the one that committed first answers both.
        db.session.rollback()
        existing = db.session.get(Attachment, photo_id)
        if existing is None:
            raise
        return _same_upload(existing, inspection)
    return photo


def _image_to_store(content: bytes) -> tuple[bytes, str]:
    """Return the uploaded image without its metadata, and its type; refuse what is too large or no image."""
    limit = settings()["PHOTO_MAX_BYTES"]
    if len(content) > limit:
        raise ApiError(413, "photo_too_large", f"照片不能超过 {limit // (1024 * 1024)} MB")
    mime = sniff_image(content)
    if mime is None:
        raise ApiError(415, "not_an_image", "只能上传 JPEG、PNG 或 WebP 图片")
    # Where and when it was taken, on which phone, may not travel with a photo that may show a child.
    stripped = strip_metadata(content, mime)
    if sniff_image(stripped) != mime:
        raise ApiError(415, "not_an_image", NOT_STRIPPED)
    return stripped, mime


def _same_upload(existing: Attachment, inspection: Inspection) -> Attachment:
    if existing.entity_id != inspection.id:
        raise ApiError(409, "id_exists", "该编号的照片已存在")
    return existing


def list_photos(actor, inspection_id: str) -> list[Attachment]:
    """Return the photos of an inspection in scope (metadata; content is read one by one)."""
    inspection = scope.get_scoped(actor, Inspection, inspection_id)
    return list(db.session.query(Attachment).filter_by(entity="inspection", entity_id=inspection.id)
                .order_by(Attachment.created_at))


def read_photo(actor, photo_id: str) -> Attachment:
    """Return a photo whose inspection is in the actor's scope, or 404."""
    photo = db.session.get(Attachment, photo_id)
    if photo is None:
        raise ApiError(404)
    scope.get_scoped(actor, Inspection, photo.entity_id)
    return photo
