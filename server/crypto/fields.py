"""EncryptedField: a model attribute whose value lives encrypted in its `<name>_ct` column."""
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from ..config import running_app
from .cipher import FieldCipher

KINDS = ("text", "json", "date", "float", "bytes")


def get_cipher() -> FieldCipher:
    """Return the app's FieldCipher (needs an app context)."""
    return running_app().extensions["hulei_cipher"]


def _encode(kind: str, value: Any) -> bytes:
    if kind == "bytes":
        return bytes(value)
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    if kind == "date":
        return value.isoformat().encode()
    if kind == "float":
        return repr(float(value)).encode()
    return str(value).encode()


def _decode(kind: str, raw: bytes) -> Any:
    if kind == "bytes":
        return raw
    text = raw.decode()
    if kind == "json":
        return json.loads(text)
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "float":
        return float(text)
    return text


class EncryptedField:
    """Encrypt on set and decrypt on get, bound to table, column, row id and key version."""

    def __init__(self, kind: str = "text", blind_index: str | None = None,
                 normalize: Callable[[str], str] | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown encrypted kind {kind}")
        self.kind = kind
        self.blind_index = blind_index
        self.normalize = normalize or (lambda v: v)

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.column_attr = f"{name}_ct"
        self.cache_key = f"_plain_{name}"

    def table(self, obj) -> str:
        """Return the table the value is bound to."""
        return type(obj).__tablename__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        blob = getattr(obj, self.column_attr)
        if blob is None:
            return None
        cached = obj.__dict__.get(self.cache_key)
        if cached is not None and cached[0] == blob:
            return cached[1]
        value = self.open(self.table(obj), self._row_id(obj), blob)
        obj.__dict__[self.cache_key] = (blob, value)
        return value

    def __set__(self, obj, value) -> None:
        if value is None:
            setattr(obj, self.column_attr, None)
            obj.__dict__.pop(self.cache_key, None)
        else:
            blob = self.seal(self.table(obj), self._row_id(obj), value)
            setattr(obj, self.column_attr, blob)
            obj.__dict__[self.cache_key] = (blob, value)
        if self.blind_index:
            setattr(obj, self.blind_index, self.index_for(value, obj))

    def seal(self, table: str, row_id: str, value) -> bytes | None:
        """Return the ciphertext of `value` as stored for row `row_id` of `table`."""
        if value is None:
            return None
        return get_cipher().encrypt(_encode(self.kind, value), table, self.name, str(row_id))

    def open(self, table: str, row_id: str, blob: bytes | None):
        """Return the value of a ciphertext of this field read without the model (a Core select)."""
        if blob is None:
            return None
        return _decode(self.kind, get_cipher().decrypt(bytes(blob), table, self.name, str(row_id)))

    def index_for(self, value, obj) -> str | None:
        """Return the blind index of `value` under the current key, or None for empty values."""
        if value in (None, ""):
            return None
        return get_cipher().blind_index(self.normalize(str(value)), self.table(obj), self.name)

    def lookup_indexes(self, model, value: str) -> list[str]:
        """Return the blind indexes to match `value` under every configured key version."""
        return get_cipher().blind_indexes(self.normalize(str(value)), model.__tablename__, self.name)

    def reencrypt(self, obj) -> bool:
        """Re-encrypt under the current key when older, and refresh the blind index; say if changed."""
        blob = getattr(obj, self.column_attr)
        cipher = get_cipher()
        changed = False
        if blob is not None and cipher.version_of(bytes(blob)) != cipher.keyring.current:
            value = self.__get__(obj)
            self.__set__(obj, value)
            return True
        if self.blind_index:
            fresh = self.index_for(self.__get__(obj), obj)
            if getattr(obj, self.blind_index) != fresh:
                setattr(obj, self.blind_index, fresh)
                changed = True
        return changed

    @staticmethod
    def _row_id(obj) -> str:
        row_id = getattr(obj, "id", None)
        if row_id is None:
            raise ValueError("set the record's id before its encrypted fields")
        return str(row_id)


def encrypted_fields(model) -> list[EncryptedField]:
    """Return the EncryptedFields declared on a model class."""
    return [v for k in dir(model) if isinstance(v := getattr(model, k, None), EncryptedField)]
