"""Papers a reader names: arXiv ids and links they type, and BibTeX, RIS or CSL JSON files they upload.

Pure functions, no database: text or bytes in, :class:`Reference` values out.
A file that cannot be one of these formats, is binary, or holds too many
entries raises :class:`ReferenceError` with a message for the person; nothing
in a file is ever evaluated (BibTeX ``@string`` macros are not expanded).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import bibtexparser
import rispy
from bibtexparser.middlewares import RemoveEnclosingMiddleware

from papers.names import collapse_whitespace, tex_to_unicode

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[a-z]{2})?/\d{7}"
_ID = rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?"
# What a person may type for one paper: an id, arXiv:id, an abs/pdf/html link, the arXiv DOI, an HF page.
_TYPED_RE = re.compile(
    r"^(?:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/"
    r"|(?:https?://)?huggingface\.co/papers/"
    r"|(?:(?:https?://)?(?:dx\.)?doi\.org/)?10\.48550/arxiv\."
    r"|arxiv:\s*)?"
    rf"{_ID}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
# Where an id sits in a bibliography field: always next to a word that says arXiv.
_CITED_RE = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|10\.48550/arxiv\.|arxiv:\s*|arxiv\s+preprint\s+|corr\s+abs/|\babs/)"
    + _ID
    + r"(?![\d])",
    re.IGNORECASE,
)
_BARE_RE = re.compile(rf"^\s*(?:arxiv:)?{_ID}\s*$", re.IGNORECASE)
_SEPARATORS_RE = re.compile(r"[\s,;]+")
_LABEL_LENGTH = 120
_TITLE_LENGTH = 500


class ReferenceError(ValueError):
    """What was typed or uploaded cannot be used; the message says why, for the person."""


@dataclass(frozen=True)
class Reference:
    """One paper named in a file: its arXiv id when the entry gives one, else its title to look up."""

    label: str  # how to name it back to the person: its title, or its key
    arxiv_id: str = ""
    title: str = ""


def _canonical(match: re.Match[str]) -> str:
    arxiv_id = match.group("id")
    if "/" in arxiv_id:  # old style: archive lower case, subject class upper case (math.AG/0101001)
        archive, number = arxiv_id.split("/")
        head, _, subject = archive.partition(".")
        arxiv_id = f"{head.lower()}{'.' + subject.upper() if subject else ''}/{number}"
    return arxiv_id


def arxiv_ids_from_text(text: str, *, limit: int) -> tuple[list[str], list[str]]:
    """Return (arXiv ids, pieces that are not one) from ids or links separated by spaces, commas or lines.

    Versions are dropped (a reader likes the paper, not one version); each id comes once.
    Raises ReferenceError for more than ``limit`` papers.
    """
    ids: list[str] = []
    unknown: list[str] = []
    for piece in _SEPARATORS_RE.split(text.strip()):
        if not piece:
            continue
        match = _TYPED_RE.match(piece)
        if match is None:
            unknown.append(label(piece))
        elif (arxiv_id := _canonical(match)) not in ids:
            ids.append(arxiv_id)
    if len(ids) > limit:
        raise ReferenceError(f"Up to {limit} papers at a time, please (you gave {len(ids)}).")
    return ids, unknown


def label(text: str) -> str:
    """Return ``text`` as it can be named back to the person: one line, control characters out, short."""
    text = collapse_whitespace(text)
    return text if len(text) <= _LABEL_LENGTH else text[: _LABEL_LENGTH - 1] + "…"


def title_key(title: str) -> str:
    """Return a comparison key for a title: no TeX, braces, accents, case or punctuation."""
    decomposed = unicodedata.normalize("NFKD", tex_to_unicode(title))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[^\W_]+", stripped))


def title_variants(title: str) -> list[str]:
    """Return the lower-cased forms a catalogue title equal to ``title`` would likely have."""
    plain = collapse_whitespace(tex_to_unicode(title)).casefold()
    return list(dict.fromkeys([plain, plain.rstrip("."), f"{plain.rstrip('.')}."]))


# --- Files ------------------------------------------------------------------------------------

BIBTEX, RIS, CSL_JSON = "BibTeX", "RIS", "CSL JSON"
_BIBTEX_ENTRY_RE = re.compile(rb"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_RIS_ENTRY_RE = re.compile(rb"^TY  - ", re.MULTILINE)


def references_from_file(data: bytes, *, max_entries: int) -> tuple[str, list[Reference]]:
    """Return (format, references) of a BibTeX, RIS or CSL JSON file (a Zotero export is one of these).

    Raises ReferenceError for a binary or empty file, another format, a file
    that holds no entry it could read, or more than ``max_entries`` entries.
    """
    text = _decode(data)
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        fmt, entries = CSL_JSON, _csl_json_entries(text, max_entries)
    elif _RIS_ENTRY_RE.search(data):
        fmt, entries = RIS, _ris_entries(text, data, max_entries)
    elif _BIBTEX_ENTRY_RE.search(data):
        fmt, entries = BIBTEX, _bibtex_entries(text, data, max_entries)
    else:
        raise ReferenceError("This is not a BibTeX, RIS or CSL JSON file (Zotero can export all three).")
    references = [ref for ref in (_reference(entry) for entry in entries) if ref is not None]
    if not references:
        raise ReferenceError(f"This {fmt} file has no entry with an arXiv id or a title.")
    return fmt, references


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ReferenceError("The file is empty.")
    if b"\x00" in data[:65536]:
        raise ReferenceError("This looks like a binary file, not a BibTeX, RIS or CSL JSON export.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older exports; a wrong letter does no harm


def _too_many(count: int, max_entries: int) -> None:
    if count > max_entries:
        raise ReferenceError(
            f"This file has {count:,} entries; upload at most {max_entries:,} "
            "(export one collection rather than the whole library)."
        )


def _bibtex_entries(text: str, data: bytes, max_entries: int) -> list[dict[str, Any]]:
    _too_many(len(_BIBTEX_ENTRY_RE.findall(data)), max_entries)
    # Only the enclosing braces or quotes come off: @string macros stay unexpanded.
    library = bibtexparser.parse_string(text, parse_stack=[RemoveEnclosingMiddleware()])
    if not library.entries:
        if library.failed_blocks:
            line = library.failed_blocks[0].start_line + 1
            raise ReferenceError(f"This BibTeX file could not be read: it is malformed near line {line}.")
        raise ReferenceError("This BibTeX file has no entries.")
    return [
        {"key": entry.key, **{field.key.lower(): field.value for field in entry.fields}}
        for entry in library.entries
    ]


def _ris_entries(text: str, data: bytes, max_entries: int) -> list[dict[str, Any]]:
    _too_many(len(_RIS_ENTRY_RE.findall(data)), max_entries)
    try:
        entries = rispy.loads(text)
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise ReferenceError(f"This RIS file could not be read: {label(str(error))}") from None
    if not entries:
        raise ReferenceError("This RIS file has no complete entry (each needs a TY line and an ER line).")
    return [{"title": entry.get("title") or entry.get("primary_title") or "", **entry} for entry in entries]


def _csl_json_entries(text: str, max_entries: int) -> list[dict[str, Any]]:
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise ReferenceError("This JSON file could not be read: it is not valid JSON.") from None
    if isinstance(items, dict) and isinstance(items.get("items"), list):
        items = items["items"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ReferenceError("This JSON file is not CSL JSON (a list of references).")
    _too_many(len(items), max_entries)
    return [{str(key).lower(): value for key, value in item.items()} for item in items]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _reference(entry: dict[str, Any]) -> Reference | None:
    """Return the paper an entry names, by arXiv id where any field gives one, else by title."""
    raw_title = " ".join(_strings(entry.get("title")))[: _TITLE_LENGTH * 4]
    title = collapse_whitespace(tex_to_unicode(raw_title))[:_TITLE_LENGTH]
    arxiv_id = ""
    eprint = " ".join(_strings(entry.get("eprint")) + _strings(entry.get("number")))
    prefix = " ".join(_strings(entry.get("archiveprefix")) + _strings(entry.get("eprinttype")))
    archive = " ".join(_strings(entry.get("archive")))
    if eprint and ("arxiv" in (prefix + archive).lower() or eprint.lower().startswith("arxiv:")):
        match = _BARE_RE.match(eprint)
        arxiv_id = _canonical(match) if match else ""
    if not arxiv_id:
        for name in sorted(entry):
            for value in _strings(entry[name]):
                if match := _CITED_RE.search(value):
                    arxiv_id = _canonical(match)
                    break
            if arxiv_id:
                break
    if not arxiv_id and not title:
        return None
    name = title or " ".join(_strings(entry.get("key"))) or arxiv_id
    return Reference(label=label(name), arxiv_id=arxiv_id, title=title)
