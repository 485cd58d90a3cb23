"""Author names: TeX escapes to Unicode, splitting arXiv author lists, match keys.

Pure functions, no database. arXiv's RSS gives authors as one string such as
``Jos\\'e M. F. Moura, Przemys{\\l}aw Nowak (Univ. of X, Y and Z) and Ann Lee``;
:func:`split_authors` turns it into ``["José M. F. Moura", "Przemysław Nowak",
"Ann Lee"]``.
"""

from __future__ import annotations

import re
import unicodedata

# Accent commands written with a symbol: \'e \`e \^e \"e \~n \=a \.z
_SYMBOL_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
}
# Accent commands written with a letter: \v{s} \c c \H{o} \k{a} \u{g} \r{a} \d{h} \b{k}
_LETTER_ACCENTS = {
    "v": "\u030c",
    "c": "\u0327",
    "H": "\u030b",
    "k": "\u0328",
    "u": "\u0306",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
# Letters TeX writes as control words: {\l}, \o, \ss, \aa ...
_SPECIAL_LETTERS = {
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "o": "ø",
    "O": "Ø",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
}
_ESCAPED_SYMBOLS = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}"}

# The accented base: a letter, a dotless \i or \j, optionally in braces.
_BASE = r"(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))"
_SYMBOL_ACCENT_RE = re.compile(r"\\([" + re.escape("".join(_SYMBOL_ACCENTS)) + r"])\s*" + _BASE)
_LETTER_ACCENT_RE = re.compile(
    r"\\([" + "".join(_LETTER_ACCENTS) + r"])(?:\s*\{\s*(\\[ij]|[A-Za-z])\s*\}|\s+([A-Za-z]))"
)
_SPECIAL_LETTER_RE = re.compile(
    r"\\("
    + "|".join(sorted(_SPECIAL_LETTERS, key=len, reverse=True))
    + r")(?![A-Za-z])(?:\{\}|\s+(?=[A-Za-z]))?"
)
_ESCAPED_SYMBOL_RE = re.compile(r"\\([&%$#_{}])")
_WHITESPACE_RE = re.compile(r"\s+")


def _accent_base(letter: str) -> str:
    return {"\\i": "i", "\\j": "j"}.get(letter, letter)


def tex_to_unicode(text: str) -> str:
    """Return ``text`` with TeX accent and letter escapes turned into Unicode (NFC)."""
    if "\\" not in text and "{" not in text and "~" not in text:
        return unicodedata.normalize("NFC", text)

    def symbol_accent(match: re.Match[str]) -> str:
        base = _accent_base(match.group(2) or match.group(3))
        return base + _SYMBOL_ACCENTS[match.group(1)]

    def letter_accent(match: re.Match[str]) -> str:
        base = _accent_base(match.group(2) or match.group(3))
        return base + _LETTER_ACCENTS[match.group(1)]

    text = _SYMBOL_ACCENT_RE.sub(symbol_accent, text)
    text = _LETTER_ACCENT_RE.sub(letter_accent, text)
    text = _SPECIAL_LETTER_RE.sub(lambda m: _SPECIAL_LETTERS[m.group(1)], text)
    text = _ESCAPED_SYMBOL_RE.sub(lambda m: "\x00" + _ESCAPED_SYMBOLS[m.group(1)] + "\x00", text)
    # Grouping braces and TeX's unbreakable space carry no meaning in a name.
    parts = text.split("\x00")
    for index in range(0, len(parts), 2):
        parts[index] = parts[index].replace("{", "").replace("}", "").replace("~", " ")
    text = "".join(parts)
    return unicodedata.normalize("NFC", collapse_whitespace(text))


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def collapse_whitespace(text: str) -> str:
    """Return ``text`` with control characters dropped and every run of whitespace made one space."""
    return _WHITESPACE_RE.sub(" ", _CONTROL_RE.sub("", text)).strip()


def _split_top_level(text: str) -> list[str]:
    """Split on commas, semicolons and the word "and" outside parentheses and braces."""
    pieces: list[str] = []
    depth = 0
    start = 0
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth = max(0, depth - 1)
        elif depth == 0:
            if char in ",;":
                pieces.append(text[start:index])
                start = index + 1
            elif char in " \t\n" and text[index + 1 : index + 5].lower() == "and " and index + 4 < length:
                pieces.append(text[start:index])
                index += 5
                start = index
                continue
        index += 1
    pieces.append(text[start:])
    return pieces


_AFFILIATION_RE = re.compile(r"\s*[\(\[][^()\[\]]*(?:[\(\[][^()\[\]]*[\)\]][^()\[\]]*)*[\)\]]")


def split_authors(creator: str) -> list[str]:
    """Return the author names in order from one arXiv author string.

    Commas and " and " inside parenthesised affiliations do not split names;
    the affiliations themselves are dropped, and TeX escapes become Unicode.
    """
    names = []
    for piece in _split_top_level(creator):
        name = tex_to_unicode(_AFFILIATION_RE.sub("", piece))
        name = name.strip(" .,;") if name.endswith((",", ";")) else name.strip()
        if name and name.lower() not in {"et al", "et al.", "others"}:
            names.append(name)
    return names


def name_key(name: str) -> str:
    """Return a comparison key for a person's name: no accents, no case, no punctuation.

    ``name_key("José M. F. Moura") == name_key("jose m f moura")``.
    """
    decomposed = unicodedata.normalize("NFKD", tex_to_unicode(name))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.translate(_FOLD_LETTERS).casefold()
    return " ".join(re.findall(r"[^\W_]+", stripped))


_FOLD_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ı": "i",
        "đ": "d",
        "Đ": "D",
    }
)
