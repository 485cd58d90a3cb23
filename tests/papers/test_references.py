"""Papers a reader names: ids and links as typed, and BibTeX, RIS and CSL JSON files (Zotero's exports)."""

from __future__ import annotations

import json

import pytest

from papers.references import ReferenceError, arxiv_ids_from_text, references_from_file, title_key

ZOTERO_BIBTEX = rb"""
@misc{vaswani_attention_2017,
  title = {Attention {Is} {All} {You} {Need}},
  url = {http://arxiv.org/abs/1706.03762},
  doi = {10.48550/arXiv.1706.03762},
  publisher = {arXiv},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
  note = {arXiv:1706.03762 [cs]},
}
@article{devlin2018bert,
  title={{BERT}: Pre-training of Deep Bidirectional Transformers},
  journal={arXiv preprint arXiv:1810.04805},
  year={2018}
}
@article{DBLP:journals/corr/abs-2005-14165,
  title = {Language Models are Few-Shot Learners},
  journal = {CoRR}, volume = {abs/2005.14165}, eprinttype = {arXiv}, eprint = {2005.14165},
}
@inproceedings{old,
  title = {Old Style}, eprint = {hep-th/9901001v3}, archivePrefix = {arXiv},
}
@book{knuth, title = {The {Art} of Computer Programming}, publisher = {Addison-Wesley}}
"""

ZOTERO_RIS = (
    b"""TY  - PREPRINT
TI  - Attention Is All You Need
AU  - Vaswani, Ashish
UR  - http://arxiv.org/abs/1706.03762
DO  - 10.48550/arXiv.1706.03762
N1  - arXiv:1706.03762 [cs]
ER  - """
    + b"\n\nTY  - JOUR\nTI  - A Journal Paper With No Preprint\nER  - \n"
)


def test_it_reads_ids_and_links_in_every_form_a_reader_pastes() -> None:
    text = (
        "2403.15527v2, https://arxiv.org/abs/1706.03762\n http://arxiv.org/pdf/2401.00001v3.pdf; "
        "arXiv:hep-th/9901001 math.AG/0101001v2 10.48550/arXiv.1810.04805 "
        "https://huggingface.co/papers/2501.12948 https://export.arxiv.org/abs/2403.15527"
    )
    ids, unknown = arxiv_ids_from_text(text, limit=50)
    assert ids == [
        "2403.15527",
        "1706.03762",
        "2401.00001",
        "hep-th/9901001",
        "math.AG/0101001",
        "1810.04805",
        "2501.12948",
    ]
    assert unknown == []


def test_it_names_what_is_not_an_arxiv_id_or_link() -> None:
    ids, unknown = arxiv_ids_from_text("1706.03762 hello https://evil.example/abs/1706.03762", limit=50)
    assert ids == ["1706.03762"] and unknown == ["hello", "https://evil.example/abs/1706.03762"]


def test_it_refuses_more_papers_than_the_limit() -> None:
    with pytest.raises(ReferenceError, match="Up to 3 papers"):
        arxiv_ids_from_text(" ".join(f"2401.{n:05d}" for n in range(4)), limit=3)


def test_it_finds_arxiv_ids_in_a_zotero_bibtex_export_and_keeps_titles_of_the_rest() -> None:
    fmt, references = references_from_file(ZOTERO_BIBTEX, max_entries=100)
    assert fmt == "BibTeX"
    assert [(ref.arxiv_id, ref.title) for ref in references] == [
        ("1706.03762", "Attention Is All You Need"),
        ("1810.04805", "BERT: Pre-training of Deep Bidirectional Transformers"),
        ("2005.14165", "Language Models are Few-Shot Learners"),
        ("hep-th/9901001", "Old Style"),
        ("", "The Art of Computer Programming"),
    ]


def test_it_reads_a_ris_export() -> None:
    fmt, references = references_from_file(ZOTERO_RIS, max_entries=100)
    assert fmt == "RIS"
    assert [(ref.arxiv_id, ref.title) for ref in references] == [
        ("1706.03762", "Attention Is All You Need"),
        ("", "A Journal Paper With No Preprint"),
    ]


def test_it_reads_csl_json() -> None:
    items = [
        {"type": "article", "title": "Attention Is All You Need", "URL": "http://arxiv.org/abs/1706.03762"},
        {"type": "article", "title": "Found by title", "DOI": "10.1000/xyz"},
        {"type": "article", "archive": "arXiv", "number": "2005.14165", "title": "GPT-3"},
    ]
    fmt, references = references_from_file(json.dumps(items).encode(), max_entries=100)
    assert fmt == "CSL JSON"
    assert [ref.arxiv_id for ref in references] == ["1706.03762", "", "2005.14165"]


def test_it_does_not_expand_bibtex_macros() -> None:
    data = b'@string{big = "x"}\n@article{a, title = big # big # big, eprint=1706.03762, eprinttype=arXiv}'
    _, references = references_from_file(data, max_entries=10)
    assert references[0].arxiv_id == "1706.03762" and "xxx" not in references[0].title


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"just some words, not a bibliography", "not a BibTeX, RIS or CSL JSON"),
        (b"@article{broken, title = {never closed", "malformed near line 1"),
        (b"TY  - JOUR\nTI  - no end record\n", "no complete entry"),
        (b"[1, 2, 3]", "not CSL JSON"),
        (b"{not json", "not valid JSON"),
        (b"[" * 50000 + b"]" * 50000, "not valid JSON"),
        (b"@misc{a, note={no title or id}}", "no entry with an arXiv id or a title"),
    ],
)
def test_it_refuses_a_file_it_cannot_use_with_a_clear_reason(data: bytes, message: str) -> None:
    with pytest.raises(ReferenceError, match=message):
        references_from_file(data, max_entries=100)


def test_it_refuses_a_file_with_thousands_of_entries_before_parsing_it() -> None:
    data = b"".join(b"@misc{k%d, title={T %d}}\n" % (n, n) for n in range(5000))
    with pytest.raises(ReferenceError, match="5,000 entries; upload at most 2,000"):
        references_from_file(data, max_entries=2000)


def test_titles_compare_without_case_braces_tex_or_punctuation() -> None:
    assert title_key("{BERT}: Pre-training of Deep {Bidirectional} Transformers.") == title_key(
        "BERT: pre-training of deep bidirectional transformers"
    )
    assert title_key(r"Schr\"odinger bridges") == title_key("Schrödinger Bridges")
