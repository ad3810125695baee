"""Normalize identifiers before blind-indexing so equal values index equally."""
import re


def normalize_id_number(value: str) -> str:
    """Return an ID-card number without spaces or dashes, check letter upper-cased."""
    return re.sub(r"[\s-]", "", value).upper()


def normalize_phone(value: str) -> str:
    """Return a phone number's digits, without a leading +86 or 0086."""
    digits = re.sub(r"\D", "", value)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits
