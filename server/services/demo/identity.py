"""Deterministic ids, resident ID numbers, phone numbers and passwords for demo data."""

from __future__ import annotations

import random
import uuid
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_MAP = "10X98765432"
HOME_REGION_CODE = "430699"
OTHER_REGION_CODES = ("430598", "430998", "431298", "420698", "360498")
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "198",
    "199",
)
_PW_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PW_LOWER = "abcdefghjkmnpqrstuvwxyz"
_PW_DIGITS = "23456789"
_PW_ALL = _PW_UPPER + _PW_LOWER + _PW_DIGITS


def new_id(rng: random.Random) -> str:
    """Return a random-looking but seed-deterministic UUID4 string."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def id_check_digit(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of an ID."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_MAP[total % 11]


class IdNumberIssuer:
    """Issues unique 18-character resident ID numbers."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def issue(self, birth: date, sex: str, region: str = HOME_REGION_CODE) -> str:
        """Return a new unique ID number for the birth date and sex ("M"/"F")."""
        parity = 1 if sex == "M" else 0
        while True:
            seq = self._rng.randrange(1, 500) * 2 - 2 + parity
            if seq == 0:
                continue
            body = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = body + id_check_digit(body)
            if number not in self._used:
                self._used.add(number)
                return number


class PhoneIssuer:
    """Issues unique 11-digit mainland mobile numbers."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def issue(self) -> str:
        """Return a new mobile number not issued before by this issuer."""
        while True:
            number = (
                self._rng.choice(MOBILE_PREFIXES) + f"{self._rng.randrange(10**8):08d}"
            )
            if number not in self._used:
                self._used.add(number)
                return number


def make_password(rng: random.Random) -> str:
    """Return a 14-character password like "Hk7m-9qX2-a3Pz" mixing cases and digits."""
    chars = [
        rng.choice(_PW_UPPER),
        rng.choice(_PW_LOWER),
        rng.choice(_PW_DIGITS),
        rng.choice(_PW_DIGITS),
    ]
    chars += [rng.choice(_PW_ALL) for _ in range(8)]
    rng.shuffle(chars)
    text = "".join(chars)
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"
