"""Vietnamese normalisation."""

import unicodedata

import pytest

from bot.text import content_words, fold, telex_decode


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("Đánh giá NỘI BỘ là gì???", "danh gia noi bo la gi"),
        (unicodedata.normalize("NFD", "Lãnh đạo họp xem xét"), "lanh dao hop xem xet"),
        ("ĐGNB 👍 ok!!", "dgnb ok"),
        ("TCVN ISO 9001:2015", "tcvn iso 9001 2015"),
        ("hoà / hòa, thuỷ / thủy", "hoa hoa thuy thuy"),
        ("  nhiều    khoảng\ttrắng\n", "nhieu khoang trang"),
        ("iso9001", "iso 9001"),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


@pytest.mark.parametrize("raw, decoded", [("ddanhs", "danh"), ("gias", "gia"), ("nooij", "noi"), ("booj", "bo"), ("truwowngf", "truong")])
def test_telex_decode(raw, decoded):
    assert telex_decode(raw) == decoded


def test_content_words_keep_domain_words_that_look_like_function_words():
    # "nội" (nội bộ), "cơ" (cơ hội), "phạm vi" fold to syllables that must not be dropped
    assert content_words(fold("đánh giá nội bộ là gì vậy ad").split()) == ["danh", "gia", "noi", "bo"]
    assert "vi" in content_words(fold("phạm vi áp dụng").split())
