"""Names as people count them: 第二网格 before 第十网格, 2组 before 10组."""
import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
          "九": 9}
NUMBER = re.compile(r"([0-9]+|[零〇一二两三四五六七八九十百]+)")


def chinese_number(text: str) -> int:
    """Return the value of a Chinese numeral up to the hundreds (十二 is 12, 一百零五 is 105)."""
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = DIGITS[ch]
        else:  # 十 or 百
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
    return total + current


def natural_key(name: str | None) -> tuple:
    """Return a key ordering names by the numbers in them, written in digits or in Chinese."""
    parts = NUMBER.split(name or "")
    return tuple((1, int(p) if p.isascii() else chinese_number(p), p) if i % 2 else (0, p)
                 for i, p in enumerate(parts))
