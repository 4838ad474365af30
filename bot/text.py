"""Vietnamese text normalisation: NFC, case, diacritic folding (đ→d), Telex residue, tokens."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

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

# A clause number as typed: "8.5.1", "9.2." at the end of a sentence, not the "31.12" of a date
CLAUSE_NUMBER = r"(?<![\d.])(\d{1,2}(?:\.\d{1,2}){1,3})(?!\d|\.\d)"
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

    >>> fold("Đánh giá NỘI BỘ là gì???")
    'danh gia noi bo la gi'
    """
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
    own: dict[tuple[str, str, bool], int] = {}
    function: dict[tuple[str, str, bool], int] = {}
    seen: dict[str, str] = {}      # word → folded: a knowledge base has far fewer words than tokens
    for text in texts:
        if not _MARKED.search(text):
            continue
        words = _WORD.findall(unicodedata.normalize("NFC", text).lower())
        folded = [seen[w] if w in seen else seen.setdefault(w, fold(w)) for w in words]
        for i, (word, key) in enumerate(zip(words, folded, strict=True)):
            if key not in STOPWORDS:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(words) and folded[j] and folded[j] not in STOPWORDS and not folded[j].isdigit():
                    pair = (folded[min(i, j)], folded[max(i, j)], i > j)
                    counts = function if word in FUNCTION_FORMS else own
                    counts[pair] = counts.get(pair, 0) + 1
    return {pair for pair, n in own.items() if n >= min_count and n > 2 * function.get(pair, 0)}


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
