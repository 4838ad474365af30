"""Vietnamese text normalisation: NFC, case, diacritic folding (đ→d), Telex residue, tokens."""

from __future__ import annotations

import re
import unicodedata
from array import array
from functools import lru_cache
from itertools import pairwise

import numpy as np

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_DIGIT_SPLIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_VOWELS = set("aeiouy")
_TELEX_PAIRS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"))
_TONE_KEYS = set("sfrxj")

# Vietnamese function words (folded). They carry no topic: they are ignored when we decide whether a
# question is about anything the knowledge base knows (see search.coverage).
STOPWORDS = frozenset(
    """
    a ad admin ah ai ak anh ba bac be bi biet boi bon cac chua cua da dang day den deu di dc duoc
    em gi gium giup ha hay hoac hon j k kg khi khong ko la lam len luc ma may minh mot muon nao nay tai
    ne neu nghe nhe nhi nho nhu nhung o oi ong phai r ra rang roi sao se sau the thi toi tren trong
    tui uh va vao vay ve voi vs xin z
    """.split()
)


# The same function words as they are spelt with their marks. A syllable that folds like a function
# word but is spelt otherwise belongs to a word of its own: "năng lực" is not "lúc", "phân biệt" is
# not "biết", "bảo vệ" is not "về", "nhu cầu" is not "như" (see compound_pairs).
FUNCTION_FORMS = frozenset(
    """
    a ạ à á ad admin ah ai ak anh ba bà bác bé bị biết bởi bọn các chưa của đã đang đây đấy đến đều đi dc
    được em gì giùm giúp hả hà hay hãy hoặc hơn j k kg khi không ko là làm lên lúc mà mấy mình một muốn
    nào này nay nè nếu nghe nhé nhe nhỉ nhờ như những nhưng ở ơi ông phải r ra rằng rồi sao sẽ sau thế thể
    thì tôi tới trên trong tui uh và vào vậy về với vs xin z tại
    """.split()
)

# A clause number as typed: "8.5.1", "9.2." at the end of a sentence, not the "31.12" of a date. Its
# first digit must not follow a digit or a dot: written "\d(?<![\d.]\d)" rather than "(?<![\d.])\d", the
# regex engine skips to the next digit instead of trying the look-behind at every character
CLAUSE_NUMBER = r"(\d(?<![\d.]\d)\d?(?:\.\d{1,2}){1,3})(?!\d|\.\d)"
CLAUSE = re.compile(CLAUSE_NUMBER)
_MARKED = re.compile(r"[^\x00-\x7f]")
_WORD = re.compile(r"\w+", re.UNICODE)


def _fold_table() -> dict[int, str]:
    """One translation table for every Latin letter with Vietnamese marks (and stray combining marks)."""
    table: dict[int, str] = {}
    for cp in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch.lower()) if unicodedata.category(c) != "Mn")
        if base != ch and base.isascii():
            table[cp] = base
    table.update({ord("đ"): "d", ord("Đ"): "d"})
    for cp in range(0x0300, 0x0370):  # combining marks left over from decomposed input
        table[cp] = ""
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ→d), drop punctuation and emoji, squeeze spaces.

    Word by word, each word folded once (:func:`_fold_word`): a knowledge base has far fewer words than
    tokens, so indexing a large one costs a dictionary look-up per token. Folding never joins or
    splits text across white space, so this is the same as folding the whole text at once.

    >>> fold("Đánh giá NỘI BỘ là gì???")
    'danh gia noi bo la gi'
    """
    return " ".join(filter(None, map(_fold_word, text.split())))


@lru_cache(maxsize=1 << 16)
def _fold_word(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().translate(_FOLD)
    text = _PUNCT.sub(" ", text)
    text = _DIGIT_SPLIT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def unmark(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (đ→d) but keep punctuation, which dates and times
    need ("15/12", "8:30"; :func:`fold` would make them "15 12", "8 30").

    >>> unmark("Thứ Hai, 15/12 lúc 8:30")
    'thu hai, 15/12 luc 8:30'
    """
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD)


def tokens(text: str) -> list[str]:
    """Folded word tokens of ``text``."""
    return fold(text).split()


def telex_decode(token: str) -> str:
    """Undo Telex keystrokes left in a folded token: 'ddanhs' → 'danh', 'nooij' → 'noi'.

    Only letters after the first vowel are treated as tone keys, since a Vietnamese syllable never
    ends in s, f, r, x or j. The caller decides whether the result is a better word.
    """
    out = token
    for pair, repl in _TELEX_PAIRS:
        out = out.replace(pair, repl)
    first_vowel = next((i for i, c in enumerate(out) if c in _VOWELS), None)
    if first_vowel is None:
        return out
    head, tail = out[: first_vowel + 1], out[first_vowel + 1 :]
    tail = "".join(c for c in tail if c not in _TONE_KEYS and c != "w")
    return head + tail


def bigrams(words: list[str]) -> list[str]:
    """Adjacent word pairs joined with '_' ('danh gia' → 'danh_gia'): Vietnamese compounds."""
    return [f"{a}_{b}" for a, b in pairwise(words)]


def compound_pairs(texts: list[str], min_count: int = 3) -> set[tuple[str, str, bool]]:
    """Folded word pairs in which a syllable that folds like a function word belongs to a compound.

    Learnt from the accented text of the knowledge base: in "năng lực" the syllable "lực" folds to
    "luc" like "lúc", but it is not spelt like the function word. A pair is kept when it is spelt
    that way at least ``min_count`` times and more than twice as often as with the function word.
    Each pair is ``(left, right, True if the function-like syllable is the right one)``.
    Text written without any marks says nothing about spelling and is skipped.
    """
    spelt, words, same_text = _spelt_words([t for t in texts if _MARKED.search(t)])
    if not len(words):
        return set()
    keys = Ids()
    folded = [fold(w) for w in spelt]
    key = np.array([keys[f] for f in folded], dtype=np.int64)
    stop = np.array([f in STOPWORDS for f in folded])
    content = np.array([bool(f) and f not in STOPWORDS and not f.isdigit() for f in folded])
    function = np.array([w in FUNCTION_FORMS for w in spelt])
    left, right, n = key[words[:-1]], key[words[1:]], len(keys)
    code_parts, function_parts = [], []
    for side, stop_at, other_at in ((True, words[1:], words[:-1]), (False, words[:-1], words[1:])):
        pick = same_text & stop[stop_at] & content[other_at]
        code_parts.append((left[pick] * n + right[pick]) * 2 + side)
        function_parts.append(function[stop_at[pick]])
    codes, spelt_as_function = np.concatenate(code_parts), np.concatenate(function_parts)
    own: dict[int, int] = dict(zip(*np.unique(codes[~spelt_as_function], return_counts=True), strict=False))
    other: dict[int, int] = dict(zip(*np.unique(codes[spelt_as_function], return_counts=True), strict=False))
    names = list(keys)
    return {
        (names[c // 2 // n], names[c // 2 % n], bool(c % 2))
        for c, k in own.items()
        if k >= min_count and k > 2 * other.get(c, 0)
    }


def _spelt_words(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The lower-case, composed (NFC) words of all texts end to end, for :func:`compound_pairs`: the
    distinct words, the id of every word, and whether each word and the next are in one text.

    A large knowledge base has millions of tokens but few distinct ones: each distinct token is
    split into words once, and numpy repeats the result for every occurrence.
    """
    tokens, flat, lengths = Ids(), array("i"), array("i")
    for text in texts:
        before = len(flat)
        flat.extend(map(tokens.__getitem__, text.split()))
        lengths.append(len(flat) - before)
    ids = Ids()
    words_of = [[ids[w] for w in _WORD.findall(unicodedata.normalize("NFC", t).lower())] for t in tokens]
    size = np.array([len(ws) for ws in words_of], dtype=np.int32)
    start = np.cumsum(size) - size
    token = np.frombuffer(flat, dtype=np.int32)
    count = size[token]  # words of each token of the texts
    at = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count - start[token], count)
    words = np.array([i for ws in words_of for i in ws], dtype=np.int32)[at]
    text_of = np.repeat(np.repeat(np.arange(len(lengths), dtype=np.int32), lengths), count)
    return list(ids), words, text_of[1:] == text_of[:-1]


class Ids(dict):
    """Word → small integer, a new one for each word seen first: ``ids[w]`` always answers."""

    def __missing__(self, word: str) -> int:
        self[word] = n = len(self)
        return n


def content_words(words: list[str]) -> list[str]:
    """Words that are not Vietnamese function words."""
    return [w for w in words if w not in STOPWORDS]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A value for a spreadsheet or CSV cell that is never a live formula: text a user typed that starts
    like one ('=HYPERLINK(…)', '+1', '@SUM') gets a leading apostrophe, as Excel itself writes text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def vn_date(value) -> str:
    """A date as Vietnamese readers write it: '2026-12-20' or date(2026, 12, 20) → '20/12/2026'
    ('—' for none)."""
    from datetime import date

    if not value:
        return "—"
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def local_date(iso: str | None, tz):
    """The day a stored UTC time fell on in the configured time zone (a report made at 06:30 in Hà
    Nội is dated that day, not the day before), or None."""
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(tz).date() if iso else None
