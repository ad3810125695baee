"""The field app's JavaScript as phones download it: the comments left out.

A quarter of the shell's compressed bytes were comments, which a phone fetches over a weak signal
and keeps for nothing. Only comments go: the code, its strings, template literals and regular
expressions are sent byte for byte, and a comment alone on its line takes the line with it. Not a
minifier: one (rjsmin) squeezes the spaces in a template literal nested in another, which is text
on screen; the tests check with it that nothing but comments and spaces went.
"""
import re

# After one of these a `/` begins a regular expression; after anything else it divides.
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = frozenset({"return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
                             "throw", "case", "do", "else", "yield", "await", "default"})
_WORD = re.compile(r"[\w$]+")


def comment_spans(source: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every comment in `source`, read as the JavaScript it is."""
    spans: list[tuple[int, int]] = []
    braces: list[int] = []  # for each template substitution open, the braces opened inside it
    i, n = 0, len(source)
    last = ""  # the last token read: a `/` after it begins a regular expression or divides
    while i < n:
        c = source[i]
        if c in "'\"":
            i, last = _string_end(source, i), "'"
        elif c == "`" or (c == "}" and braces and braces[-1] == 0):
            if c == "}":
                braces.pop()
            i, opened = _template_end(source, i + 1)
            if opened:
                braces.append(0)
            last = "{" if opened else "`"
        elif source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            spans.append((i, end))
            i = end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            spans.append((i, end + 2))
            i = end + 2
        elif c == "/":
            regex = not last or last in _REGEX_AFTER or last in _REGEX_KEYWORDS
            i, last = (_regex_end(source, i + 1), "/x/") if regex else (i + 1, "/")
        elif (word := _WORD.match(source, i)) is not None:
            # A property (o.in) is a name whatever it spells.
            i, last = word.end(), "a" if last == "." else word.group()
        elif source.startswith(("++", "--"), i):
            i, last = i + 2, "a"  # x++ / 2: a `/` after ++ or -- divides
        else:
            if braces and c in "{}":
                braces[-1] += 1 if c == "{" else -1
            if not c.isspace():
                last = c
            i += 1
    if braces:
        raise ValueError("unterminated template literal")
    return spans


def _string_end(source: str, i: int) -> int:
    quote, i = source[i], i + 1
    while i < len(source) and source[i] != quote:
        if source[i] == "\n":
            break
        i += 2 if source[i] == "\\" else 1
    if i >= len(source) or source[i] != quote:
        raise ValueError("unterminated string")
    return i + 1


def _template_end(source: str, i: int) -> tuple[int, bool]:
    """Read a template literal's text from `i`: return where it stops and whether at a `${`."""
    while i < len(source):
        if source[i] == "\\":
            i += 2
        elif source[i] == "`":
            return i + 1, False
        elif source.startswith("${", i):
            return i + 2, True
        else:
            i += 1
    raise ValueError("unterminated template literal")


def _regex_end(source: str, i: int) -> int:
    in_class = False
    while i < len(source):
        c = source[i]
        if c == "\n":
            raise ValueError("unterminated regular expression")
        if c == "\\":
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            return i + 1
        i += 1
    raise ValueError("unterminated regular expression")


def without_comments(source: str) -> str:
    """Return `source` with its comments left out: a line holding only comment goes whole, a
    comment after code goes with the spaces before it."""
    out, at = [], 0
    for start, end in comment_spans(source):
        line_start = source.rfind("\n", 0, start) + 1
        line_end = source.find("\n", end)
        line_end = len(source) if line_end < 0 else line_end
        alone = not source[line_start:start].strip() and not source[end:line_end].strip()
        if alone:
            out.append(source[at:line_start])
            at = min(line_end + 1, len(source))
        elif source[end:line_end].strip():  # code follows: a space keeps its tokens apart, a line break
            # its statements (return /*\n*/ 1 returns nothing)
            gap = "\n" if "\n" in source[start:end] else "" if source[start - 1:start].isspace() else " "
            out.append(source[at:start] + gap)
            at = end
        else:
            out.append(source[at:start].rstrip(" \t"))
            at = end
    out.append(source[at:])
    return "".join(out)
