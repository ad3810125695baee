"""Inspection photos: upload as the raw image body, list, and read back decrypted."""
import uuid

from flask import Blueprint, Response, request
from flask_login import login_required

from ..errors import ApiError
from ..schemas.enforcement import PhotoListSchema, PhotoSchema
from ..services import photos
from .common import actor, api_doc, device_id

bp = Blueprint("photos", __name__, url_prefix="/api")


def _photo_id() -> str:
    raw = request.headers.get("X-Photo-Id") or str(uuid.uuid4())
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ApiError(422, "validation_error", "照片编号应为 UUID",
                       fields={"X-Photo-Id": ["应为 UUID"]}) from None


@bp.post("/inspections/<inspection_id>/photos")
@api_doc(response=PhotoSchema, status=201)
@login_required
def upload_photo(inspection_id: str):
    """Attach a photo (the request body is the JPEG, PNG or WebP file; X-Photo-Id makes it idempotent)."""
    photo = photos.attach_photo(actor(), inspection_id, _photo_id(), request.get_data(), device_id())
    return PhotoSchema().dump(photo), 201


@bp.get("/inspections/<inspection_id>/photos")
@api_doc(response=PhotoListSchema)
@login_required
def list_photos(inspection_id: str):
    """List an inspection's photos."""
    return PhotoListSchema().dump({"rows": photos.list_photos(actor(), inspection_id)})


@bp.get("/photos/<photo_id>")
@login_required
def read_photo(photo_id: str):
    """Return one photo, decrypted, never cached."""
    photo = photos.read_photo(actor(), photo_id)
    return Response(photo.content, mimetype=photo.mime, headers={"Cache-Control": "no-store"})
