"""Re-encrypt every encrypted column to the newest key version, in resumable batches."""
import base64
import logging
import time

from sqlalchemy import delete, select
from sqlalchemy.orm.attributes import flag_modified

from ..crypto import EncryptedField, encrypted_fields, get_cipher
from ..crypto.keyring import Keyring, new_key_text, parse_keyring, write_key_file
from ..database import CANARY
from ..extensions import db
from ..models import Attachment, GuardianPhone, Household, KeyCanary
from . import audit, changes
from .registry import household_phone_index

log = logging.getLogger(__name__)
# A batch holds the writers' lock while it re-encrypts; a photo is up to 2 MB.
PHOTOS_PER_BATCH = 10


def encrypted_models() -> list[type]:
    """Return every model class that declares an EncryptedField."""
    models = [m.class_ for m in db.Model.registry.mappers]
    return sorted((m for m in models if encrypted_fields(m)), key=lambda m: m.__tablename__)


def start_rotation(keyring: Keyring) -> int | None:
    """Add a new key version to the key file unless a rotation is already unfinished."""
    if len(keyring.keys) > 1 or keyring.source_file is None:
        return None
    version = keyring.current + 1
    keys = _file_keys(keyring)
    keys[version] = new_key_text()
    write_key_file(keyring.source_file, keys)
    return version


def _file_keys(keyring: Keyring) -> dict[int, str]:
    """Return the key file's versions as base64 text, read as the server reads it (commas or lines)."""
    text = keyring.source_file.read_text(encoding="ascii")
    parsed = parse_keyring(text, str(keyring.source_file), keyring.source_file)
    return {version: base64.b64encode(key).decode("ascii") for version, key in parsed.keys.items()}


def _rotate_model(model, fields: list[EncryptedField], batch: int, pause: float) -> int:
    changed, last_id = 0, ""
    while True:
        # FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already excludes writers): a request
        # that edits a row while its batch is re-encrypted waits, instead of being overwritten.
        # The writers' lock first, as every writer takes it: a push holding it and a row of the
        # batch would otherwise wait on this batch while it waited on the push.
        changes.lock_writers()
        rows = db.session.scalars(
            select(model).where(model.id > last_id).order_by(model.id).limit(batch).with_for_update()).all()
        if not rows:
            db.session.commit()  # lets the writers' lock go before the next model or the count
            return changed
        with changes.untracked(db.session):
            for row in rows:
                changed += sum(field.reencrypt(row) for field in fields)
                if model is Household:
                    _refresh_phone_index(row)
                if hasattr(row, "updated_at"):
                    flag_modified(row, "updated_at")  # keep it: re-encryption is not an edit
            db.session.flush()
        last_id = rows[-1].id
        db.session.commit()
        db.session.expunge_all()
        if pause:
            time.sleep(pause)


def _refresh_phone_index(household: Household) -> None:
    db.session.execute(delete(GuardianPhone).where(GuardianPhone.household_id == household.id))
    phones = {household_phone_index(g["phone"]) for g in household.guardians or [] if g.get("phone")}
    db.session.add_all(GuardianPhone(household_id=household.id, phone_bidx=p) for p in phones)


def rotate_all(batch: int = 500, pause: float = 0.0) -> dict:
    """Re-encrypt every row to the current key version; safe to kill and rerun.

    `pause` seconds between batches leave room for a live server's writes on a busy database.
    """
    cipher = get_cipher()
    current = cipher.keyring.current
    if db.session.get(KeyCanary, current) is None:
        db.session.add(KeyCanary(key_version=current, ciphertext=cipher.encrypt(
            CANARY, "key_canary", "ciphertext", str(current))))
        db.session.commit()
    counts = {}
    for model in encrypted_models():
        size = min(batch, PHOTOS_PER_BATCH) if model is Attachment else batch
        counts[model.__tablename__] = _rotate_model(model, encrypted_fields(model), size, pause)
        log.info("re-encrypted %s: %d values", model.__tablename__, counts[model.__tablename__])
    remaining = count_old_values()
    if remaining == 0:
        db.session.execute(delete(KeyCanary).where(KeyCanary.key_version != current))
        audit.record_event("keys.rotated", detail={"version": current, "reencrypted": counts})
        db.session.commit()
    return {"version": current, "reencrypted": counts, "remaining": remaining}


def count_old_values() -> int:
    """Count ciphertexts still under an older key version."""
    cipher, total = get_cipher(), 0
    for model in encrypted_models():
        columns = [getattr(model, f.column_attr) for f in encrypted_fields(model)]
        for values in db.session.execute(select(*columns)).all():
            total += sum(1 for v in values
                         if v is not None and cipher.version_of(bytes(v)) != cipher.keyring.current)
    return total


def finish_rotation(keyring: Keyring) -> None:
    """Drop the old key versions from the key file once nothing uses them."""
    if keyring.source_file is not None and len(keyring.keys) > 1:
        current = keyring.current
        write_key_file(keyring.source_file, {current: _file_keys(keyring)[current]})
