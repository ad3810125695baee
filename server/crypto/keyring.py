"""Load the versioned master keys from the environment or a key file; never from the database."""
import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class MasterKeyError(RuntimeError):
    """The master key is missing, malformed or does not match the database."""


@dataclass(frozen=True)
class Keyring:
    """Master keys by version; the highest version encrypts, every version decrypts."""

    keys: dict[int, bytes]
    source_file: Path | None = None

    @property
    def current(self) -> int:
        """Return the version new ciphertexts use."""
        return max(self.keys)

    def key(self, version: int) -> bytes:
        """Return the master key of `version`, or raise MasterKeyError."""
        try:
            return self.keys[version]
        except KeyError:
            raise MasterKeyError(f"master key version {version} is not configured") from None


def _decode_key(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{where}: the master key is not valid base64") from None
    if len(raw) != 32:
        raise MasterKeyError(f"{where}: the master key must be 32 bytes (base64 of 32 random bytes)")
    return raw


def parse_keyring(text: str, where: str, source_file: Path | None = None) -> Keyring:
    """Parse 'BASE64' (version 1) or 'N:BASE64' entries separated by commas or new lines."""
    keys: dict[int, bytes] = {}
    entries = [e.strip() for e in text.replace(",", "\n").splitlines() if e.strip()]
    for entry in entries:
        version_text, sep, key_text = entry.partition(":")
        if not sep:
            version_text, key_text = "1", entry
        if not version_text.isdigit() or not 0 < int(version_text) < 65536:
            raise MasterKeyError(f"{where}: key versions are whole numbers from 1 to 65535")
        version = int(version_text)
        if version in keys:
            raise MasterKeyError(f"{where}: key version {version} appears twice")
        keys[version] = _decode_key(key_text, where)
    if not keys:
        raise MasterKeyError(f"{where}: no master key found")
    return Keyring(keys, source_file)


def load_keyring(value: str | None, file: str | None) -> Keyring:
    """Return the keyring from HULEI_MASTER_KEY, else HULEI_MASTER_KEY_FILE, else raise."""
    if value:
        return parse_keyring(value, "HULEI_MASTER_KEY")
    if file:
        path = Path(file)
        try:
            text = path.read_text(encoding="ascii")
        except OSError as exc:
            raise MasterKeyError(f"HULEI_MASTER_KEY_FILE {path}: {exc.strerror}") from None
        return parse_keyring(text, f"HULEI_MASTER_KEY_FILE {path}", source_file=path)
    raise MasterKeyError(
        "no master key: set HULEI_MASTER_KEY (base64 of 32 random bytes) or "
        "HULEI_MASTER_KEY_FILE; 'make run' creates instance/master.key on first start"
    )


def new_key_text() -> str:
    """Return base64 of 32 fresh random bytes."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def write_key_file(path: Path, keys: dict[int, str]) -> None:
    """Write versioned keys to `path` atomically with mode 0600."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a temporary file left by a crash keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        for version in sorted(keys, reverse=True):
            handle.write(f"{version}:{keys[version]}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
