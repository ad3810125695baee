"""Field encryption at rest: keyring, AES-GCM cipher, encrypted model fields, key checks."""
import logging
import os

from .cipher import DecryptionError, FieldCipher
from .fields import EncryptedField, encrypted_fields, get_cipher
from .keyring import Keyring, MasterKeyError, load_keyring

log = logging.getLogger(__name__)
STAMP = "hulei_key_file_stamp"
KEY_CHECK = "hulei_key_check"  # checks a cipher against the database's key canaries (database.py)

__all__ = [
    "DecryptionError", "EncryptedField", "FieldCipher", "Keyring", "MasterKeyError",
    "encrypted_fields", "get_cipher", "init_app", "load_keyring", "reload_if_changed",
]


def init_app(app) -> None:
    """Load the keyring (or refuse to start) and attach the cipher to the app.

    A keyring read from a file follows the file: `keys rotate` adds a version and later drops the
    old one while servers keep running, so each request first checks whether the file changed.
    """
    keyring = load_keyring(app.config.get("HULEI_MASTER_KEY"), app.config.get("HULEI_MASTER_KEY_FILE"))
    app.extensions["hulei_cipher"] = FieldCipher(keyring)
    if keyring.source_file is not None:
        app.extensions[STAMP] = _stamp(keyring.source_file)

        @app.before_request
        def follow_key_file() -> None:  # a before_request answer would replace the response
            reload_if_changed(app)


def _stamp(path) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def reload_if_changed(app) -> bool:
    """Load the key file again if it changed since it was read; say whether it did."""
    path = app.extensions["hulei_cipher"].keyring.source_file
    stamp = _stamp(path)
    if stamp is None or stamp == app.extensions.get(STAMP):
        return False
    try:
        keyring = load_keyring(None, str(path))
    except MasterKeyError:
        log.warning("the master key file changed but cannot be read; keeping the keys in use")
        return False
    cipher, check = FieldCipher(keyring), app.extensions.get(KEY_CHECK)
    try:
        if check is not None:
            check(cipher)
    except MasterKeyError:
        # A wrong file copied over the right one would fail every read and seal new rows under a key
        # that no longer opens once the right file is back.
        log.error("the master key file changed to keys that do not match this database; "
                  "keeping the keys in use")
        app.extensions[STAMP] = stamp  # checked again when the file changes again, not each request
        return False
    app.extensions["hulei_cipher"] = cipher
    app.extensions[STAMP] = stamp
    log.info("master key file reloaded: versions %s", sorted(keyring.keys))
    return True
