"""Validators for Chinese identifiers and coordinates."""
import re
from datetime import date

from marshmallow import ValidationError

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_problem(value: str) -> str | None:
    """Return why an 18-character resident ID number is invalid, or None."""
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "身份证号码应为 18 位（末位可为 X）"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS))
    if ID_CHECK[total % 11] != value[17]:
        return "身份证号码校验位不正确"
    return None


BIRTH_NOT_AS_ID = "出生日期与身份证号码中的出生日期不一致"


def birth_against_id_problem(id_number: str | None, birth_date: date | None) -> str | None:
    """Return why a birth date disagrees with a valid resident ID number given with it (the number
    holds the birth date, its 7th to 14th digits), or None."""
    if not id_number or birth_date is None or id_number_problem(id_number):
        return None
    value = id_number.strip()
    held = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    return None if held == birth_date else BIRTH_NOT_AS_ID


def validate_id_number(value: str) -> None:
    """Raise a ValidationError for an invalid resident ID number."""
    problem = id_number_problem(value)
    if problem:
        raise ValidationError(problem)


def validate_phone(value: str) -> None:
    """Accept an 11-digit mobile number or a landline with area code."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"(\+?86)?1[3-9]\d{9}|0\d{2,3}\d{7,8}", digits):
        raise ValidationError("电话号码格式不正确")


def validate_lat(value: float) -> None:
    """Latitude in degrees."""
    if not -90 <= value <= 90:
        raise ValidationError("纬度应在 -90 到 90 之间")


def validate_lon(value: float) -> None:
    """Longitude in degrees."""
    if not -180 <= value <= 180:
        raise ValidationError("经度应在 -180 到 180 之间")
