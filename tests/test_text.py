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


@pytest.mark.parametrize(
    "raw, decoded", [("ddanhs", "danh"), ("gias", "gia"), ("nooij", "noi"), ("booj", "bo"), ("truwowngf", "truong")]
)
def test_telex_decode(raw, decoded):
    assert telex_decode(raw) == decoded


def test_content_words_keep_domain_words_that_look_like_function_words():
    # "nội" (nội bộ), "cơ" (cơ hội), "phạm vi" fold to syllables that must not be dropped
    assert content_words(fold("đánh giá nội bộ là gì vậy ad").split()) == ["danh", "gia", "noi", "bo"]
    assert "vi" in content_words(fold("phạm vi áp dụng").split())


def test_compound_pairs_are_learnt_from_the_spelling_of_the_knowledge_text():
    texts = [
        "Năng lực của công chức.",
        "Đánh giá năng lực hằng năm.",
        "năng lực và hiệu lực",
        "Lúc nào thì đánh giá?",
        "Phân biệt hồ sơ, tài liệu",
        "phân biệt rõ",
        "cần phân biệt",
        "Cho em biết phân công",
    ]
    pairs = compound_pairs(texts, min_count=3)
    assert ("nang", "luc", True) in pairs  # "lực", spelt three times: not the function word "lúc"
    assert ("phan", "biet", True) in pairs  # "biệt", not "biết"
    assert not any("nao" in p for p in pairs)  # "lúc nào": the function word itself
    assert ("hieu", "luc", True) not in pairs  # seen once only


def test_compound_pairs_ignore_text_typed_without_marks():
    # without marks "nang luc" could be either spelling: it teaches nothing
    assert compound_pairs(["nang luc can bo"] * 5, min_count=3) == set()


def test_compound_pairs_need_the_compound_spelling_to_dominate():
    texts = ["về giấy tờ"] * 4 + ["vẽ giấy"] * 3
    assert ("ve", "giay", False) not in compound_pairs(texts, min_count=3)


def _fold_whole(text: str) -> str:
    """fold() as it was written before it went word by word: the whole text at once."""
    from bot import text as t

    text = unicodedata.normalize("NFC", text).lower().translate(t._FOLD)
    return t._SPACES.sub(" ", t._DIGIT_SPLIT.sub(" ", t._PUNCT.sub(" ", text))).strip()


def test_fold_word_by_word_is_folding_the_whole_text():
    import random

    rnd = random.Random(8)
    alphabet = [
        chr(c)
        for c in [
            *range(0x20, 0x7F),
            *range(0xC0, 0x250),
            *range(0x300, 0x370),
            *range(0x1EA0, 0x1F00),
            0xA0,
            0x2000,
            0x2028,
            0x3000,
            0x1C,
            0x85,
            0x200B,
            0x3A3,
            0x130,
            0x1F600,
        ]
    ] + ["\t", "\n"]
    texts = ["a\u0301 \u0301b", "ΟΔΟΣ Σa", "x_y", "iso9001abc", unicodedata.normalize("NFD", "Đánh giá nội bộ")]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(20))) for _ in range(20_000)]
    assert [fold(t) for t in texts] == [_fold_whole(t) for t in texts]


def test_clause_numbers_are_found_as_with_a_look_behind_first():
    import random
    import re

    from bot.text import CLAUSE

    before = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d{1,2}){1,3})(?!\d|\.\d)")
    rnd = random.Random(9)
    for _ in range(20_000):
        text = "".join(rnd.choice(["0", "1", "9", ".", " ", "a", "khoản "]) for _ in range(rnd.randrange(25)))
        assert [m.span(1) for m in CLAUSE.finditer(text)] == [m.span(1) for m in before.finditer(text)], text
