"""Author strings from arXiv become clean Unicode names."""

from __future__ import annotations

import pytest

from papers.names import name_key, split_authors, tex_to_unicode


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"Jos\'e", "José"),
        (r"Rodr\'iguez-G\'alvez", "Rodríguez-Gálvez"),
        (r"M{\"u}ller", "Müller"),
        (r"Knollm\"uller", "Knollmüller"),
        (r"Przemys{\l}aw", "Przemysław"),
        (r"Przemys\l aw", "Przemysław"),
        (r"{\L}ukasz", "Łukasz"),
        (r"\'Etienne", "Étienne"),
        (r"Fran\c{c}ois", "François"),
        (r"Dvo{\v r}{\'a}k", "Dvořák"),
        (r"Tom{\'a}{\v s}", "Tomáš"),
        (r"S{\o}rensen", "Sørensen"),
        (r"Gau{\ss}", "Gauß"),
        (r"G\'{\i}ron", "Gíron"),
        (r"Erd\H{o}s", "Erdős"),
        (r"Ng\~{u}yen", "Ngũyen"),
        (r"AT\&T Labs", "AT&T Labs"),
        ("Already Ünïcode", "Already Ünïcode"),
    ],
)
def test_it_turns_tex_escapes_into_unicode(tex: str, text: str) -> None:
    assert tex_to_unicode(tex) == text


def test_it_splits_on_commas_and_keeps_order() -> None:
    assert split_authors("Matteo Gasparin, Aaditya Ramdas") == ["Matteo Gasparin", "Aaditya Ramdas"]


def test_it_does_not_split_inside_affiliations() -> None:
    creator = r"Ann Lee (Dept. of CS, University of A, B and C), Bo Li (MIT and Harvard), Jos\'e Ortiz"
    assert split_authors(creator) == ["Ann Lee", "Bo Li", "José Ortiz"]


def test_it_splits_on_a_final_and() -> None:
    assert split_authors("Ann Lee, Bo Li and Cy Young") == ["Ann Lee", "Bo Li", "Cy Young"]


def test_it_keeps_names_that_contain_and() -> None:
    assert split_authors("Sandra Andersen, Rand Anderson") == ["Sandra Andersen", "Rand Anderson"]


def test_it_drops_empty_pieces_and_et_al() -> None:
    assert split_authors("Ann Lee, , Bo Li, et al.") == ["Ann Lee", "Bo Li"]


def test_name_key_ignores_accents_case_and_punctuation() -> None:
    assert name_key("José M. F. Moura") == name_key("jose m f moura") == "jose m f moura"
    assert name_key(r"Przemys{\l}aw Nowak") == name_key("Przemyslaw NOWAK")
    assert name_key("Müller-Ödegård") == "muller odegard"
