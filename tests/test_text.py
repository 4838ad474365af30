"""Vietnamese normalisation."""

import unicodedata

import pytest

from bot.text import compound_pairs, content_words, fold, telex_decode


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


def test_compound_pairs_are_learnt_from_the_spelling_of_the_knowledge_text():
    texts = ["Năng lực của công chức.", "Đánh giá năng lực hằng năm.", "năng lực và hiệu lực", "Lúc nào thì đánh giá?",
             "Phân biệt hồ sơ, tài liệu", "phân biệt rõ", "cần phân biệt", "Cho em biết phân công"]
    pairs = compound_pairs(texts, min_count=3)
    assert ("nang", "luc", True) in pairs          # "lực", spelt three times: not the function word "lúc"
    assert ("phan", "biet", True) in pairs         # "biệt", not "biết"
    assert not any("nao" in p for p in pairs)      # "lúc nào": the function word itself
    assert ("hieu", "luc", True) not in pairs      # seen once only


def test_compound_pairs_ignore_text_typed_without_marks():
    # without marks "nang luc" could be either spelling: it teaches nothing
    assert compound_pairs(["nang luc can bo"] * 5, min_count=3) == set()


def test_compound_pairs_need_the_compound_spelling_to_dominate():
    texts = ["về giấy tờ"] * 4 + ["vẽ giấy"] * 3
    assert ("ve", "giay", False) not in compound_pairs(texts, min_count=3)
