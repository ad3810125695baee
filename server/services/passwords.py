"""Password hashing (argon2id) and the password policy for Hulei accounts."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import (
    InvalidHashError,
    UnsupportedParametersError,
    VerificationError,
)

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_USERNAME_LENGTH = 3

COMMON_PASSWORDS_PATH = (
    Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
)

_KEYBOARD_RUNS = (
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
)

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    """Hash a password with argon2id and return the encoded hash string."""
    return _hasher.hash(_normalize(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """Return True if the password matches the stored hash; False on mismatch or a bad hash."""
    if not isinstance(stored_hash, str) or not isinstance(password, str):
        return False
    try:
        return _hasher.verify(stored_hash, _normalize(password))
    except (VerificationError, InvalidHashError, UnsupportedParametersError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Return True if the hash was made with weaker or different parameters (or is unreadable)."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except (InvalidHashError, UnsupportedParametersError, TypeError):
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("hulei-dummy-password-for-timing")


def dummy_verify(password: str) -> None:
    """Spend the time of a real verification, so unknown usernames cannot be told apart."""
    verify_password(_dummy_hash(), password if isinstance(password, str) else "")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the set of common passwords (lowercase) refused by the policy."""
    text = COMMON_PASSWORDS_PATH.read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def _is_single_repeated(password: str) -> bool:
    return len(set(password)) == 1


def _is_sequence_run(lowered: str) -> bool:
    for run in _KEYBOARD_RUNS:
        if lowered in run or lowered in run[::-1]:
            return True
    return False


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Return the policy problems of a password as Chinese messages; empty means acceptable."""
    password = _normalize(password or "")
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少需要 {MIN_LENGTH} 个字符")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码不能超过 {MAX_LENGTH} 个字符")
    if not password:
        return problems

    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("该密码过于常见，请换一个")
    if username:
        name = _normalize(username).strip().lower()
        if len(name) >= MIN_USERNAME_LENGTH and name in lowered:
            problems.append("密码不能包含用户名")
    if _is_single_repeated(password):
        problems.append("密码不能由同一个字符重复组成")
    elif len(password) >= 3 and _is_sequence_run(lowered):
        problems.append("密码不能是连续的数字或键盘字母序列")
    return problems
