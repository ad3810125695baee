"""FieldCipher and keyring parsing, without a database."""
import base64
import os

import pytest

from server.crypto.cipher import HEADER, NONCE_BYTES, DecryptionError, FieldCipher
from server.crypto.keyring import Keyring, MasterKeyError, load_keyring, parse_keyring

KEY1 = bytes(range(32))
KEY2 = bytes(range(100, 132))
B64_1 = base64.b64encode(KEY1).decode()
B64_2 = base64.b64encode(KEY2).decode()
PLAIN = "欧阳明月 430699201501010011".encode()
WHERE = ("child", "name", "3f1c0a8e-0000-4000-8000-000000000001")


def cipher(*versions_keys) -> FieldCipher:
    return FieldCipher(Keyring(dict(versions_keys) or {1: KEY1}))


def test_roundtrip_returns_the_plaintext():
    c = cipher()
    for value in (PLAIN, b"", b"x" * 10_000, "监护人".encode()):
        assert c.decrypt(c.encrypt(value, *WHERE), *WHERE) == value


def test_same_value_encrypts_differently_each_time():
    c = cipher()
    first, second = c.encrypt(PLAIN, *WHERE), c.encrypt(PLAIN, *WHERE)
    assert first != second
    assert first[HEADER.size:HEADER.size + NONCE_BYTES] != second[HEADER.size:HEADER.size + NONCE_BYTES]
    assert PLAIN not in first and PLAIN not in second
    assert c.decrypt(first, *WHERE) == c.decrypt(second, *WHERE) == PLAIN


@pytest.mark.parametrize("moved", [
    ("child", "name", "3f1c0a8e-0000-4000-8000-000000000002"),  # another row
    ("child", "notes", WHERE[2]),                                # another column
    ("household", "name", WHERE[2]),                             # another table
    ("user", "display_name", "1"),                               # everything else
])
def test_ciphertext_moved_elsewhere_fails(moved):
    c = cipher()
    blob = c.encrypt(PLAIN, *WHERE)
    with pytest.raises(DecryptionError) as err:
        c.decrypt(blob, *moved)
    assert str(err.value) == f"cannot decrypt {moved[0]}.{moved[1]} of row {moved[2]}"
    assert c.decrypt(blob, *WHERE) == PLAIN


def test_every_flipped_byte_fails():
    c = cipher()
    blob = c.encrypt(PLAIN, *WHERE)
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= bit
            with pytest.raises(DecryptionError):
                c.decrypt(bytes(tampered), *WHERE)


@pytest.mark.parametrize("keep", [0, 1, HEADER.size, HEADER.size + NONCE_BYTES,
                                  HEADER.size + NONCE_BYTES + 15, -1, -16])
def test_truncated_blob_fails(keep):
    c = cipher()
    blob = c.encrypt(PLAIN, *WHERE)
    with pytest.raises(DecryptionError):
        c.decrypt(blob[:keep], *WHERE)


def test_extended_blob_fails():
    c = cipher()
    with pytest.raises(DecryptionError):
        c.decrypt(c.encrypt(PLAIN, *WHERE) + b"\x00", *WHERE)


def test_not_a_ciphertext_fails():
    c = cipher()
    for junk in (None, "text", b"", os.urandom(64), PLAIN):
        with pytest.raises(DecryptionError):
            c.decrypt(junk, *WHERE)


def test_key_version_is_in_the_header():
    c = cipher((1, KEY1), (7, KEY2))
    newest, older = c.encrypt(PLAIN, *WHERE), c.encrypt(PLAIN, *WHERE, version=1)
    assert newest[:HEADER.size] == bytes([1, 0, 7])
    assert older[:HEADER.size] == bytes([1, 0, 1])
    assert (c.version_of(newest), c.version_of(older)) == (7, 1)
    assert c.decrypt(newest, *WHERE) == c.decrypt(older, *WHERE) == PLAIN
    # the version is bound too: relabelling a version-1 blob as version 7 fails
    with pytest.raises(DecryptionError):
        c.decrypt(bytes([1, 0, 7]) + older[HEADER.size:], *WHERE)


def test_unknown_format_fails():
    c = cipher()
    blob = c.encrypt(PLAIN, *WHERE)
    with pytest.raises(DecryptionError, match="unknown ciphertext format"):
        c.decrypt(b"\x02" + blob[1:], *WHERE)


def test_key_of_another_keyring_fails():
    blob = cipher((1, KEY1)).encrypt(PLAIN, *WHERE)
    with pytest.raises(DecryptionError):
        cipher((1, KEY2)).decrypt(blob, *WHERE)
    with pytest.raises(DecryptionError):  # a version this keyring does not hold
        cipher((2, KEY1)).decrypt(blob, *WHERE)


def test_old_version_decrypts_after_a_new_key_is_added():
    blob = cipher((1, KEY1)).encrypt(PLAIN, *WHERE)
    assert cipher((1, KEY1), (2, KEY2)).decrypt(blob, *WHERE) == PLAIN
    with pytest.raises(DecryptionError):
        cipher((2, KEY2)).decrypt(blob, *WHERE)


def test_blind_index_is_keyed_and_bound_to_the_column():
    c = cipher((1, KEY1), (2, KEY2))
    index = c.blind_index("430699201501010011", "child", "id_number")
    assert len(index) == 32 and int(index, 16) >= 0
    assert index == c.blind_index("430699201501010011", "child", "id_number", version=2)
    assert index == cipher((2, KEY2)).blind_index("430699201501010011", "child", "id_number")
    assert index != c.blind_index("430699201501010011", "child", "id_number", version=1)
    assert index != c.blind_index("430699201501010011", "staff_check", "id_number")
    assert index != c.blind_index("430699201501010012", "child", "id_number")
    assert c.blind_indexes("430699201501010011", "child", "id_number") == [
        c.blind_index("430699201501010011", "child", "id_number", 1), index]


# --- keyring parsing -------------------------------------------------------------------

def test_parse_a_bare_key_as_version_1():
    ring = parse_keyring(B64_1, "HULEI_MASTER_KEY")
    assert (ring.keys, ring.current, ring.source_file) == ({1: KEY1}, 1, None)


@pytest.mark.parametrize("text", [
    f"2:{B64_2},1:{B64_1}",
    f"1:{B64_1},2:{B64_2}",
    f" 2:{B64_2} , 1:{B64_1} ",
    f"2:{B64_2}\n1:{B64_1}\n",
    f"\n2:{B64_2}\r\n\n1:{B64_1}\n\n",
    f"2:{B64_2}\n{B64_1}",
])
def test_parse_versioned_keys(text):
    ring = parse_keyring(text, "HULEI_MASTER_KEY")
    assert ring.keys == {1: KEY1, 2: KEY2}
    assert ring.current == 2
    assert ring.key(1) == KEY1


def test_missing_version_is_a_clear_error():
    ring = parse_keyring(B64_1, "HULEI_MASTER_KEY")
    with pytest.raises(MasterKeyError) as err:
        ring.key(3)
    assert str(err.value) == "master key version 3 is not configured"


SHORT = base64.b64encode(KEY1[:16]).decode()
LONG = base64.b64encode(KEY1 + KEY2).decode()
BAD_CASES = [
    ("abc$%^&*", "HULEI_MASTER_KEY: the master key is not valid base64"),
    (B64_1[:-2], "HULEI_MASTER_KEY: the master key is not valid base64"),
    (f"1:{B64_1},2:{B64_1[:-5]}!!!!!", "HULEI_MASTER_KEY: the master key is not valid base64"),
    (SHORT, "HULEI_MASTER_KEY: the master key must be 32 bytes (base64 of 32 random bytes)"),
    (LONG, "HULEI_MASTER_KEY: the master key must be 32 bytes (base64 of 32 random bytes)"),
    (f"2:{B64_2},1:{SHORT}", "HULEI_MASTER_KEY: the master key must be 32 bytes (base64 of 32 random bytes)"),
    (f"1:{B64_1},1:{B64_2}", "HULEI_MASTER_KEY: key version 1 appears twice"),
    (f"{B64_1}\n1:{B64_2}", "HULEI_MASTER_KEY: key version 1 appears twice"),
    (f"0:{B64_1}", "HULEI_MASTER_KEY: key versions are whole numbers from 1 to 65535"),
    (f"65536:{B64_1}", "HULEI_MASTER_KEY: key versions are whole numbers from 1 to 65535"),
    (f"x:{B64_1}", "HULEI_MASTER_KEY: key versions are whole numbers from 1 to 65535"),
    (f"-1:{B64_1}", "HULEI_MASTER_KEY: key versions are whole numbers from 1 to 65535"),
    (" , \n", "HULEI_MASTER_KEY: no master key found"),
]


def _fragments(text: str) -> set[str]:
    """Every key-looking piece of `text` at least 8 characters long."""
    pieces = {p.partition(":")[2] or p for p in text.replace(",", "\n").split()}
    return {p[i:i + 8] for p in pieces if len(p) >= 8 for i in range(len(p) - 7)}


@pytest.mark.parametrize(("text", "message"), BAD_CASES, ids=[str(i) for i in range(len(BAD_CASES))])
def test_bad_keyrings_give_clear_errors_without_key_material(text, message):
    with pytest.raises(MasterKeyError) as err:
        parse_keyring(text, "HULEI_MASTER_KEY")
    assert str(err.value) == message
    rendered = repr(err.value) + str(err.value.__cause__) + str(err.value.__context__)
    assert not any(fragment in rendered for fragment in _fragments(text))
    # no chained binascii error that a traceback would print with the input in it
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__


def test_load_keyring_prefers_the_variable_then_the_file(tmp_path):
    path = tmp_path / "master.key"
    path.write_text(f"2:{B64_2}\n1:{B64_1}\n", encoding="ascii")
    assert load_keyring(B64_1, str(path)).keys == {1: KEY1}
    ring = load_keyring(None, str(path))
    assert (ring.keys, ring.source_file) == ({1: KEY1, 2: KEY2}, path)
    assert load_keyring("", str(path)).keys == {1: KEY1, 2: KEY2}


def test_load_keyring_without_any_key_names_the_settings():
    with pytest.raises(MasterKeyError) as err:
        load_keyring(None, None)
    assert "HULEI_MASTER_KEY" in str(err.value) and "HULEI_MASTER_KEY_FILE" in str(err.value)


def test_key_file_errors_name_the_file_not_the_key(tmp_path):
    missing = tmp_path / "absent.key"
    with pytest.raises(MasterKeyError) as err:
        load_keyring(None, str(missing))
    assert str(err.value) == f"HULEI_MASTER_KEY_FILE {missing}: No such file or directory"
    bad = tmp_path / "bad.key"
    bad.write_text(f"1:{SHORT}\n", encoding="ascii")
    with pytest.raises(MasterKeyError) as err:
        load_keyring(None, str(bad))
    assert str(err.value) == (f"HULEI_MASTER_KEY_FILE {bad}: the master key must be 32 bytes "
                              "(base64 of 32 random bytes)")
    assert SHORT[:8] not in str(err.value)
