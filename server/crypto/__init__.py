"""Field encryption at rest: keyring, AES-GCM cipher, encrypted model fields, key checks."""
from .cipher import DecryptionError, FieldCipher
from .fields import EncryptedField, encrypted_fields, get_cipher
from .keyring import Keyring, MasterKeyError, load_keyring

__all__ = [
    "DecryptionError", "EncryptedField", "FieldCipher", "Keyring", "MasterKeyError",
    "encrypted_fields", "get_cipher", "init_app", "load_keyring",
]


def init_app(app) -> None:
    """Load the keyring (or refuse to start) and attach the cipher to the app."""
    keyring = load_keyring(app.config.get("HULEI_MASTER_KEY"), app.config.get("HULEI_MASTER_KEY_FILE"))
    app.extensions["hulei_cipher"] = FieldCipher(keyring)
