"""Search children by name or pinyin initials: decrypt the scoped candidates' names and match.

Names are encrypted at rest and no search index is kept beside them: a blind index of name
bigrams or initials would leak their frequencies. Decrypting one name takes a few microseconds,
so a village of 5,000 children is searched in a few tens of milliseconds (see bench/README.md).
Only the per-character initials are cached across requests; no name is.
"""
import re
from functools import lru_cache

from pypinyin import Style, pinyin

from ..masking import mask_name, masks_names

LETTERS = re.compile(r"^[a-z]+$")


@lru_cache(maxsize=20000)
def char_initials(char: str) -> frozenset[str]:
    """Return every pinyin initial a character may take (heteronyms included)."""
    if char.isascii():
        return frozenset({char.lower()})
    readings = pinyin(char, style=Style.FIRST_LETTER, heteronym=True)[0]
    return frozenset(r[0].lower() for r in readings if r and r[0].isalpha())


def normalize_query(q: str) -> str:
    """Return the query lower-cased without spaces."""
    return "".join(q.split()).lower()


def name_matches(name: str | None, query: str, masked: bool = False) -> bool:
    """Say whether a name contains the query, or its initials contain the query's letters.

    A name the caller sees masked (欧**月) is matched as shown, without its initials: its hidden
    characters would otherwise answer, one guess at a time and with no reveal, what the mask hides.
    """
    if not name or not query:
        return False
    if masked:
        return query in mask_name(name).lower()
    if query in name.lower():
        return True
    if not LETTERS.match(query) or len(query) > len(name):
        return False
    initials = [char_initials(c) for c in name]
    return any(all(query[j] in initials[start + j] for j in range(len(query)))
               for start in range(len(initials) - len(query) + 1))


def name_search(actor, args: dict, unmasked: bool):
    """Return the ledgers' `q` as a test of a name, or None without one: a name the caller sees
    masked (not in an unmasked export) is matched as shown."""
    if not args.get("q"):
        return None
    needle, masked = normalize_query(args["q"]), masks_names(actor) and not unmasked
    return lambda name: name_matches(name, needle, masked)
