"""AES-256-GCM field encryption with per-field HKDF keys and HMAC blind indexes."""
import hashlib
import hmac
import os
import struct
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .keyring import Keyring

FORMAT = 1
HEADER = struct.Struct(">BH")
NONCE_BYTES = 12
BLIND_INDEX_BYTES = 16


class DecryptionError(Exception):
    """A ciphertext could not be authenticated for this table, column, row and key."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hulei-v1", info=purpose).derive(master)


class FieldCipher:
    """Encrypt and decrypt one field value, bound to where it is stored."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        self._field_key = lru_cache(maxsize=512)(self._derive_field_key)
        self._index_key = lru_cache(maxsize=128)(self._derive_index_key)

    def _derive_field_key(self, version: int, table: str, column: str) -> AESGCM:
        purpose = f"field|{table}|{column}".encode()
        return AESGCM(_derive(self.keyring.key(version), purpose))

    def _derive_index_key(self, version: int, table: str, column: str) -> bytes:
        return _derive(self.keyring.key(version), f"blind-index|{table}|{column}".encode())

    @staticmethod
    def _aad(table: str, column: str, row_id: str, version: int) -> bytes:
        return f"{table}|{column}|{row_id}|{version}".encode()

    def encrypt(self, plaintext: bytes, table: str, column: str, row_id: str,
                version: int | None = None) -> bytes:
        """Return header + nonce + AES-GCM ciphertext under the current (or given) key version."""
        version = self.keyring.current if version is None else version
        nonce = os.urandom(NONCE_BYTES)
        aead = self._field_key(version, table, column)
        body = aead.encrypt(nonce, plaintext, self._aad(table, column, row_id, version))
        return HEADER.pack(FORMAT, version) + nonce + body

    def decrypt(self, blob: bytes, table: str, column: str, row_id: str) -> bytes:
        """Return the plaintext, or raise DecryptionError; never return ciphertext or garbage."""
        version = self.version_of(blob)
        start = HEADER.size
        nonce, body = blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:]
        try:
            aead = self._field_key(version, table, column)
            return aead.decrypt(nonce, body, self._aad(table, column, row_id, version))
        except (InvalidTag, ValueError, Exception) as exc:
            raise DecryptionError(f"cannot decrypt {table}.{column} of row {row_id}") from exc

    @staticmethod
    def version_of(blob: bytes) -> int:
        """Return the key version stored in a ciphertext's header."""
        if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < HEADER.size + NONCE_BYTES + 16:
            raise DecryptionError("not a Hulei ciphertext")
        fmt, version = HEADER.unpack_from(bytes(blob[:HEADER.size]))
        if fmt != FORMAT:
            raise DecryptionError("unknown ciphertext format")
        return version

    def blind_index(self, normalized: str, table: str, column: str, version: int | None = None) -> str:
        """Return the truncated HMAC-SHA256 of a normalized value under one key version."""
        version = self.keyring.current if version is None else version
        key = self._index_key(version, table, column)
        digest = hmac.new(key, normalized.encode(), hashlib.sha256).digest()
        return digest[:BLIND_INDEX_BYTES].hex()

    def blind_indexes(self, normalized: str, table: str, column: str) -> list[str]:
        """Return the blind index under every configured key version (for lookups mid-rotation)."""
        return [self.blind_index(normalized, table, column, v) for v in sorted(self.keyring.keys)]
