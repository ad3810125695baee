"""Tests for password hashing and the password policy."""

import re

import pytest

from server.services import passwords
from server.services.passwords import (
    dummy_verify,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)

STRONG = "Lantern-River-42!"


def test_hash_verify_roundtrip():
    stored = hash_password(STRONG)
    assert stored != STRONG
    assert verify_password(stored, STRONG) is True


def test_hashes_are_salted():
    assert hash_password(STRONG) != hash_password(STRONG)


def test_wrong_password_is_false():
    stored = hash_password(STRONG)
    assert verify_password(stored, STRONG + "x") is False
    assert verify_password(stored, "") is False


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-a-hash",
        "$argon2id$v=19$m=19456,t=2,p=1$abc$def",
        "$2b$12$abcdefghijklmnopqrstuv",
    ],
)
def test_garbage_hash_is_false(garbage):
    assert verify_password(garbage, STRONG) is False


def test_none_hash_is_false():
    assert verify_password(None, STRONG) is False  # type: ignore[arg-type]


def test_hash_parameters_are_argon2id_and_strong_enough():
    stored = hash_password(STRONG)
    match = re.match(r"^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert match, stored
    version, memory, time_cost, parallelism = map(int, match.groups())
    assert version == 19
    assert memory >= 19456
    assert time_cost >= 2
    assert parallelism >= 1


def test_needs_rehash():
    assert needs_rehash(hash_password(STRONG)) is False
    weak = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ"
    assert needs_rehash(weak) is True
    assert needs_rehash("garbage") is True


def test_unicode_normal_forms_verify_alike():
    composed = "Café-au-lait-2024"
    decomposed = "Cafe\u0301-au-lait-2024"
    assert verify_password(hash_password(composed), decomposed) is True


def test_dummy_verify_returns_none():
    assert dummy_verify(STRONG) is None
    assert dummy_verify("") is None


def test_strong_password_passes():
    assert password_problems(STRONG) == []
    assert password_problems(STRONG, username="zhangsan") == []


def test_too_short():
    assert "密码至少需要 8 个字符" in password_problems("Ab3$xyz")


def test_length_counts_characters_not_bytes():
    assert password_problems("护蕾守护春天花开") == []
    assert "密码至少需要 8 个字符" in password_problems("护蕾守护春天花")


def test_too_long():
    problems = password_problems("Ab3$" * 33)
    assert "密码不能超过 128 个字符" in problems
    assert password_problems("Ab3$" * 32) == []


@pytest.mark.parametrize(
    "common",
    [
        "password",
        "PASSWORD1",
        "Qwerty123",
        "iloveyou",
        "admin123",
        "welcome1",
        "P@ssw0rd",
        "A5201314",
        "woaini1314",
        "a1234567",
        "123456aa",
        "qq123456",
        "1qaz2wsx",
        "147258369",
        "123123123",
        "abc123456",
        "woaini520",
        "aa123456",
        "13145200",
    ],
)
def test_common_passwords_refused(common):
    assert "该密码过于常见，请换一个" in password_problems(common)


def test_common_list_is_large_and_lowercase():
    common = passwords.common_passwords()
    assert len(common) >= 400
    assert all(entry == entry.lower() for entry in common)
    for entry in ("123456", "5201314", "1314520", "zxcvbnm", "88888888", "11111111"):
        assert entry in common


def test_password_containing_username_refused():
    assert "密码不能包含用户名" in password_problems(
        "xx-ZhangSan-2024", username="zhangsan"
    )
    assert "密码不能包含用户名" in password_problems("Zhangsan", username="zhangsan")


def test_short_username_not_checked():
    assert "密码不能包含用户名" not in password_problems(
        "Lantern-ab-River-42", username="ab"
    )


@pytest.mark.parametrize(
    "repeated", ["aaaaaaaa", "********", "99999999999", "呵呵呵呵呵呵呵呵"]
)
def test_single_repeated_character_refused(repeated):
    assert "密码不能由同一个字符重复组成" in password_problems(repeated)


@pytest.mark.parametrize(
    "run",
    [
        "12345678",
        "87654321",
        "234567890",
        "qwertyui",
        "ASDFGHJK",
        "lkjhgfdsa",
        "abcdefghij",
        "poiuytre",
    ],
)
def test_digit_and_keyboard_runs_refused(run):
    assert "密码不能是连续的数字或键盘字母序列" in password_problems(run)


def test_messages_are_chinese():
    problems = password_problems("1234", username="1234")
    assert problems
    for message in problems:
        assert re.search(r"[\u4e00-\u9fff]", message), message
