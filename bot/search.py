"""Vietnamese-aware search over the knowledge base.

Pipeline for a question (and, at index time, for every entry phrasing):
fold (NFC, case, diacritics, đ→d, punctuation) → rewrite glossary variants to their expansion
(ĐGNB → đánh giá nội bộ) → repair words the index does not know (Telex residue, typos, glued words).

Ranking combines lexical evidence — BM25 over syllables and syllable bigrams, and how much of the
question's informative words an entry covers — with rapidfuzz similarity to the entry's phrasings.
The result is a score 0–100 that the gate in :meth:`Searcher.search` turns into answer / suggest /
decline.
"""

from __future__ import annotations

import functools
import math
import re
from array import array
from collections.abc import Set
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.config import SearchConfig
from bot.intent import PhrasingModel
from bot.knowledge import Entry, KnowledgeBase, facets_of
from bot.text import CLAUSE, STOPWORDS, Ids, bigrams, compound_pairs, fold, telex_decode

MAX_QUERY_CHARS = 300
# "1 lần", "1 năm" are typed for "một lần", "một năm"; a lone 1 elsewhere (khoản 9.1) keeps its meaning
# (written "1(?<!\w1)" = a 1 not preceded by a letter: the regex engine then jumps from one "1" to the next)
_ONE = re.compile(r"1(?<!\w1) (lan|nam|thang|tuan|ngay|dot|quy|ky|nguoi|cai|buoi)(?!\w)")
# "cho em hỏi", "ad ơi cho mình hỏi chút": how a message opens, not what it asks ("hỏi" folds like
# the "hội" of "cơ hội")
COURTESY = re.compile(
    r"(?:^|(?<= ))(?:(?:ad|admin|anh|chi|ban|a) (?:oi )?)?"
    r"(?:cho (?:em|minh|toi|tui|chau|e) (?:duoc )?hoi|xin (?:duoc )?hoi|(?:em|e|minh|toi) (?:muon )?hoi)"
    r"(?: (?:chut|ti|xiu|voi|ve|la))?(?= |$)"
)
# what any courtesy opening contains, cheap to look for: most text "hỏi"/"hội" is about "cơ hội"
_COURTESY_HINT = re.compile(r"(?:em|e|minh|toi|tui|chau|duoc|xin|muon) hoi")
# a folded Vietnamese syllable: onset, one to three vowels, a final consonant (or none)
SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?\+?")
REPAIR_CACHE_MAX = 20_000  # repaired words remembered; users' odd words could otherwise grow it forever
SUSPECT_MAX = 2  # a word seen this rarely that is no syllable: a deliberate typo of some phrasing…
SURE_MIN = 5  # …when it is a sure typo of a syllable seen this often
OOS_PREFIX = "oos:"  # id prefix of out-of-scope pseudo-entries
SHORT_QUERY_WORDS = 4  # questions with this few informative words and no glossary term…
SHORT_QUERY_EXTRA = 25.0
DOMAIN_MARKERS = re.compile(
    r"(?:^| )(?:iso|tcvn|9001|khoan \d+|dieu \d+|\d+ \d+)(?: |$)"
)  # "khoản 8.4", "9.2"   # …need this many more points to be answered
SHARED_BLOCK = 2_000_000  # postings compared at once while indexing
CHUNK_PHRASINGS = 50_000  # phrasings whose totals are summed at once while indexing
ISO_MARKERS = re.compile(r"(?:^| )(?:iso|tcvn|9001|#htqlcl)(?: |$)")  # the question is about a QMS
ISO_OFF_TOPIC_MARGIN = 10.0  # …and its best entry scores this close to the off-topic example that wins
CANDIDATES = 15  # entries re-ranked with fuzzy matching
MODEL_MAX_ENTRIES = 5_000  # bigger bases rank without the phrasing classifier (its weights grow with entries × words)
MODEL_CANDIDATES = 3  # the classifier's best entries join the candidates
MODEL_POINTS = 64.0  # ranking only: points per unit of the classifier's decision value (about −1 to 1)
# The gate asks the classifier too. On the four blind sets, answers it voted below MODEL_DOUBT for were wrong 60
# times in 164, the others 48 in 616; of those doubted with a score under DOUBT_SCORE and a lead under DOUBT_LEAD,
# 23 in 40. Such an answer becomes "Ý anh/chị là…?".
MODEL_DOUBT = -0.5
DOUBT_SCORE = 65.0
DOUBT_LEAD = 8.0
# When the ranking's own leader matches one phrasing closely (idf-weighted F-score at least CLOSE_PHRASING), the
# question is one the curators wrote down in other words: the classifier then only breaks near-ties.
CLOSE_PHRASING = 0.6
CLOSE_MODEL_SHARE = 0.25
W_COVERAGE = 0.35  # idf-weighted share of the question's words that the entry covers
W_PHRASING = 0.35  # idf-weighted F1 overlap with the entry's closest phrasing
W_FUZZY = 0.30  # rapidfuzz similarity to the closest phrasing (typos, word order)
ANSWER_FIELD_CREDIT = 0.3  # a word found only in the answer counts this much
REPAIRED_CREDIT = 0.7  # a word we had to repair (typo) counts this much
ANSWER_BM25 = 0.3  # weight of the answer field in the BM25 candidate score
Q_FIELD_B = 0.4  # BM25 length normalisation of the phrasing field
RANK_BM25 = 8.0  # ranking only: points for phrasing-field BM25 relative to the best candidate
RANK_ENTRY_BM25 = 6.0  # ranking only: the same for BM25 over the whole entry, answer at full weight
BM25_POINTS = 2.0  # at most this many points for BM25 relative to the best candidate
BIGRAM_SHARE = 0.25  # share of syllable-bigram coverage (compounds) in the coverage feature
F_BETA2 = 1.0  # β² of the phrasing F-score (>1 favours recall of the question's words)
DEFINITION_TOPIC = "thuat-ngu"  # "X là gì / viết tắt của gì" about a glossary term: the term's own entry
DEFINITION_POINTS = 4.0
DEFINED_MAX_WORDS = 8  # the longest term name looked up ("hệ thống quản lý chất lượng" is 6 words)
DEFINED_POINTS = 15.0  # ranking only: a definition question names this vocabulary term ("rủi ro là gì theo ISO 9000")
DEFINITION_CUES = re.compile(r"(?:^| )(?:la gi|nghia la gi|nghia la|viet tat|doc la|doc ra|hieu la|ten day du)(?: |$)")
CLAUSE_MARK = "§"
CLAUSE_CANDIDATES = 5  # entries citing an asked clause added to the candidates, at most
CLAUSE_POINTS = 6.0  # ranking only: an entry whose sources cite the clause the question names
TAG_BOOST = 2.0  # glossary terms (#kph, #dgnb) name the topic: they outweigh generic words
COMPOUND_MARK = "+"  # "nang luc+": a syllable that folds like a function word but belongs to a compound
SPLIT_CREDIT = 0.25  # a syllable of a two-syllable word of the question found outside that word
WORD_MIN, WORD_SHARE = 3, 0.1  # a pair of syllables is a word when it occurs this often and makes up
# this share of the rarer syllable's occurrences ("van phong", not "xa ap")
COMPOUND_MIN = 3  # …seen spelt that way in the knowledge base at least this many times
FACET_POINTS = 4.0  # ranking only: the entry answers the kind of question asked (frequency, who…)
OVERVIEW_PENALTY = 4.0  # ranking only: a broad entry, when the question asks one precise thing
DEFINITION_PENALTY = 4.0  # ranking only: a definition, when the question asks another kind of thing
# chat spellings of the words the facet cues look for ("gồm những j", "bn lâu", "đk nào", "có phải … ko")
CHAT_WORDS = {
    **dict.fromkeys(("j", "ji"), "gi"),
    **dict.fromkeys(("ko", "k", "kg", "hok"), "khong"),
    **{"bn": "bao nhieu", "dc": "duoc", "bh": "bao gio", "trc": "truoc"},
}  # ("ntn" is not here: the glossary has already rewritten it to "như thế nào")
CHAT_PHRASES = {
    "bn lau": "bao lau",
    **{f"dk {w}": f"dieu khoan {w}" for w in ("nao", "may", "so")},
    "diem k": "diem k",  # "điểm k khoản 2 Điều 7" names a point of an article: kept (the longest match wins)
}
_CHAT = re.compile(r"(?<!\S)(?:" + "|".join(sorted([*CHAT_PHRASES, *CHAT_WORDS], key=len, reverse=True)) + r")(?!\S)")


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
# fixing the threshold turns off glibc's sliding adjustment; 4 MB: the index build's arrays (tens of
# MB at 100× size) are mmapped, a question's (BM25 over every entry: 136 KB at 100×) stay on the heap,
# which is faster (with glibc's 128 KB default each question mmapped and faulted them in: p50 4 → 12 ms)
MMAP_THRESHOLD = 4 * 1024 * 1024


@functools.cache  # once per process: find_library runs ldconfig
def _big_arrays_back_to_the_os() -> None:
    """Have glibc give arrays over MMAP_THRESHOLD back to the system when they are freed.

    Building the index allocates and frees hundreds of megabytes of numpy arrays. glibc raises its
    mmap threshold each time such an array is freed, so later ones come from the heap, and freed
    heap memory under live objects is never returned: at 100× size the process then held 704 MB after
    the build instead of 477 MB, with a peak of 802 MB instead of 697 MB. Fixing the threshold
    (mallopt) keeps large blocks mmapped. Elsewhere than glibc (musl, macOS) this does nothing."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass


_NOTHING: frozenset[str] = frozenset()  # shared by the many entries that cite no clause, declare no facet


@dataclass
class Hit:
    """One candidate entry with its calibrated score (0–100) and the key it is ranked by."""

    entry: Entry
    score: float
    rank_key: float = 0.0
    vote: float | None = None  # the phrasing classifier's decision value (None: no classifier)
    voted_first: bool = False  # …and it is the classifier's own best entry


@dataclass
class SearchResult:
    """What the gate decided for one question."""

    query: str
    normalized: str
    outcome: str  # "answer" | "suggest" | "decline" | "empty"
    best: Hit | None = None
    alternatives: list[Hit] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.outcome == "answer"

    @property
    def folded(self) -> str:
        """The normalized question as a curator reads it: without the internal compound mark."""
        return self.normalized.replace(COMPOUND_MARK, "")


class Normalizer:
    """Folds text and rewrites glossary variants; repairs unknown words against a vocabulary."""

    def __init__(self, kb: KnowledgeBase):
        pairs: dict[str, str] = {}
        self.generic_tags: set[str] = set()
        self.generic_words: set[str] = set()
        for term in kb.glossary:
            target = fold(term.expansion)
            tag = "#" + fold(term.term).replace(" ", "")
            if term.generic:
                self.generic_tags.add(tag)
                self.generic_words.update(target.split())
            for variant in (term.expansion, term.term, *term.variants):
                key = fold(variant)
                if key:
                    pairs[key] = f"{target} {tag}"
        self.rewrites = pairs
        self._rx = re.compile(rf"(?<!\w){_trie_pattern(pairs)}(?!\w)") if pairs else None
        texts = [t for e in kb.entries.values() for t in (e.title, *e.questions, e.answer)]
        self.compounds = compound_pairs(texts, COMPOUND_MIN)
        self.vocab: set[str] = set()
        self.suspect: dict[str, str] = {}
        self._vocab_list: list[str] = []
        self._repair_cache: dict[str, tuple[list[str], bool]] = {}

    def rewrite(self, folded: str) -> str:
        """Replace glossary variants in folded text by their expansion plus a term tag.

        "kph" and "khong phu hop" both become "khong phu hop #kph": the tag is a content word of
        its own, so a term keeps its weight even when its expansion is made of function words.
        """
        if not self._rx:
            return folded
        return self._rx.sub(lambda m: self.rewrites[m.group(0)], folded)

    def words(self, text: str) -> list[str]:
        """Folded and rewritten words (no repair), then one token per clause number as typed:
        "khoản 7.5.1" → "khoan 7 5 1 §7.5.1", so 5.1 no longer matches 7.5.1 by its digits alone."""
        return self.normalize(fold(text)).split() + [CLAUSE_MARK + c for c in CLAUSE.findall(text)]

    def normalize(self, folded: str) -> str:
        """'1 lần' → 'một lần', then glossary rewriting, then compounds protected, on folded text."""
        return self.protect(self._rewritten(folded))

    def _rewritten(self, folded: str) -> str:
        """Courtesy openings dropped, '1 lần' → 'một lần', glossary variants rewritten. Each pattern runs
        only on text with what it needs: most knowledge-base text has none."""
        if "hoi" in folded and _COURTESY_HINT.search(folded):
            folded = COURTESY.sub(" ", folded)
        if "1 " in folded:
            folded = _ONE.sub(r"mot \1", folded)
        return self.rewrite(folded)

    def protect(self, text: str) -> str:
        """Mark a syllable that folds like a function word but forms a compound with its neighbour, so
        it is not dropped as one: "nang luc" → "nang luc+", "dang ky" → "dang+ ky"."""
        words = text.split()
        if not self.compounds or STOPWORDS.isdisjoint(words):
            return text
        out = list(words)
        for i, (a, b) in enumerate(zip(words, words[1:], strict=False)):
            if (a, b, True) in self.compounds:
                out[i + 1] = b + COMPOUND_MARK
            if (a, b, False) in self.compounds:
                out[i] = a + COMPOUND_MARK
        return " ".join(out)

    def word_ids(self, texts: list[str], ids: Ids) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`words` of many texts at once, as ids (``ids`` gives new words new ids): the words of
        every text end to end, and each text's number of words. For indexing a large knowledge base:
        the compound marks of :meth:`protect` are set on the ids of all texts together, with numpy."""
        flat, counts = array("i"), array("i")
        for text in texts:
            before = len(flat)
            flat.extend(map(ids.__getitem__, self._rewritten(fold(text)).split()))
            if "." in text:  # a clause number has one
                flat.extend(ids[CLAUSE_MARK + c] for c in CLAUSE.findall(text))
            counts.append(len(flat) - before)
        words = np.frombuffer(flat, dtype=np.int32).copy()
        lengths = np.frombuffer(counts, dtype=np.int32)
        self._protect_ids(words, lengths, ids)
        return words, lengths

    def _protect_ids(self, words: np.ndarray, lengths: np.ndarray, ids: Ids) -> None:
        """:meth:`protect` on the word ids of many texts (in place): the function-like syllable of a
        compound pair within one text gets its marked form. Only such syllables are ever marked, so
        only their positions are looked at."""
        vocab = list(ids)
        n = len(vocab)
        starts = np.zeros(len(words) + 1, dtype=bool)
        starts[np.cumsum(lengths) - lengths] = True  # a text begins at this word
        at = np.flatnonzero(np.array([w in STOPWORDS for w in vocab], dtype=bool)[words])
        marked = np.zeros(len(words), dtype=bool)
        for right in (True, False):  # the marked syllable is the right one
            pairs = np.array(
                sorted(ids[a] * n + ids[b] for a, b, side in self.compounds if side == right and a in ids and b in ids),
                dtype=np.int64,
            )
            k = at[at > 0] if right else at[at < len(words) - 1]
            a, b = (k - 1, k) if right else (k, k + 1)
            inside = ~starts[b]
            marked[k[inside]] |= np.isin(words[a[inside]].astype(np.int64) * n + words[b[inside]], pairs)
        if marked.any():
            plus = {i: ids[vocab[i] + COMPOUND_MARK] for i in set(words[marked].tolist())}
            words[marked] = [plus[i] for i in words[marked].tolist()]

    def set_vocab(self, vocab: set[str], counts: dict[str, int] | None = None, trusted: Set[str] = _NOTHING) -> None:
        """The words the index knows, how often each occurs (``counts``), and those answers or
        keywords use (``trusted``). A rare word that no answer or keyword uses, that is no Vietnamese
        syllable and is a sure typo of a common one ("nhatt", "dnah"), is a curator's deliberate typo
        in an example question: a user who types it is repaired as for any other typo ("nhatt" →
        "nhat"), and no typo is repaired into it."""
        counts = counts or {}
        self.suspect = {}
        for w in vocab - trusted:
            if counts.get(w, 0) <= SUSPECT_MAX and not SYLLABLE.fullmatch(w):
                fixes = {f for f in _sure_fixes(w) if counts.get(f, 0) >= SURE_MIN and SYLLABLE.fullmatch(f)}
                if fixes:
                    self.suspect[w] = max(sorted(fixes), key=lambda f: counts[f])
        self.vocab = vocab - self.suspect.keys()
        self._vocab_list = sorted(w for w in self.vocab if len(w) >= 3)
        self._repair_cache.clear()

    def repair(self, word: str) -> tuple[list[str], bool]:
        """Map an unknown word to known ones: Telex residue, glued words, one or two typos.

        A function word typed in Telex ("gif", "naof", "khoong") is decoded even when the index knows
        the typed form: a phrasing written with that typo must not keep "là gì" from being read."""
        if word in STOPWORDS or word.isdigit() or len(word) < 3 or word.startswith(("#", CLAUSE_MARK)):
            return [word], False
        if word in self._repair_cache:
            return self._repair_cache[word]
        result: tuple[list[str], bool] = ([word], False)
        decoded = telex_decode(word)
        if word in self.suspect:
            result = ([self.suspect[word]], True)
        elif decoded in STOPWORDS or (word not in self.vocab and decoded in self.vocab):
            result = ([decoded], True)
        elif word not in self.vocab:
            split = self._split(word) or self._split(decoded)
            if split:
                result = (split, True)
            elif len(word) == 3:  # short syllables: a swap of two letters ("lna" → "lan"), a doubled one ("rro")
                known = sorted((_swaps(word) | _undoubled(word)) & self.vocab)
                if known:
                    result = ([known[0]], True)
            elif len(word) >= 4:
                limit = 1 if len(word) <= 6 else 2
                best = process.extractOne(word, self._vocab_list, scorer=OSA.distance, score_cutoff=limit)
                if best is None and decoded != word:
                    best = process.extractOne(decoded, self._vocab_list, scorer=OSA.distance, score_cutoff=limit)
                if best is not None:
                    result = ([best[0]], True)
        if len(self._repair_cache) >= REPAIR_CACHE_MAX:
            self._repair_cache.clear()
        self._repair_cache[word] = result
        return result

    def _split(self, word: str) -> list[str] | None:
        if len(word) < 5:
            return None
        for i in range(2, len(word) - 1):
            a, b = word[:i], word[i:]
            if a in self.vocab and b in self.vocab and len(a) >= 2 and len(b) >= 2:
                return [a, b]
        return None

    def query_words(self, text: str) -> tuple[list[str], set[str], set[str]]:
        """Words of a user question after repair, the words that needed repair, and those of them that
        were guessed (a typo or glued words; not the sure decoding of Telex residue, "trinhf" → "trinh")."""
        words = self.words(text)
        out: list[str] = []
        repaired: set[str] = set()
        guessed: set[str] = set()
        for w in words:
            fixed, changed = self.repair(w) if not w.startswith("#") else ([w], False)
            out += fixed
            if changed:
                repaired.update(fixed)
                if fixed != [telex_decode(w)]:
                    guessed.update(fixed)
        if repaired:
            # a repair can complete a glossary phrase ("ddanhs gias noi booj" → "danh gia noi bo")
            out = self.normalize(" ".join(w for w in out if not w.startswith("#"))).split()
        return out, repaired, guessed


def _swaps(word: str) -> set[str]:
    """The word with two neighbouring letters swapped, at each place ("lna" → "nla", "lan")."""
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}


def _undoubled(word: str) -> set[str]:
    """The word with one doubled letter typed once ("rro" → "ro", "nhatt" → "nhat")."""
    return {word[:i] + word[i + 1 :] for i in range(1, len(word)) if word[i] == word[i - 1]}


def _sure_fixes(word: str) -> set[str]:
    """What a typo-like word may stand for with little doubt: its Telex decoding ("luowng" → "luong"),
    a doubled letter undone ("nhatt" → "nhat"), two neighbouring letters swapped ("dnah" → "danh")."""
    fixes = {telex_decode(word)}
    fixes.update(_undoubled(word))
    fixes.update(_swaps(word))
    fixes.discard(word)
    return fixes


def _trie_pattern(keys) -> str:
    """A regex alternation of ``keys`` factored into a trie, longer continuations tried first.

    It matches what the alternation of the keys sorted longest first matches (of the keys that fit
    at a place, the longest), but reads each character once instead of trying every glossary
    variant at every word of the knowledge base.
    """
    trie: dict = {}
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}  # a key ends here

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


def _coverage(weights: dict[str, float], terms: list[str], credit: np.ndarray) -> np.ndarray:
    """Idf-weighted share of the question's terms each candidate covers (``credit`` rows follow
    ``terms``; a term the index does not know covers nothing but still counts in the total)."""
    row = {t: j for j, t in enumerate(terms)}
    got = np.zeros(credit.shape[1])
    for term, w in weights.items():
        j = row.get(term)
        if j is not None:
            got += w * credit[j]
    return got / (sum(weights.values()) or 1.0)


def _unmarked(words: list[str]) -> list[str]:
    """The normalized words without the compound mark ("nang luc+" → "nang luc")."""
    return [w.rstrip(COMPOUND_MARK) for w in words]


def _repaired(words: list[str]) -> str:
    """The question as repaired ("laf gif" → "là gì"), without tags or clause tokens: what facet cues read."""
    return " ".join(w.rstrip(COMPOUND_MARK) for w in words if not w.startswith(("#", CLAUSE_MARK)))


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def _terms(words: list[str]) -> list[str]:
    """Unigrams plus bigrams of content words (a Vietnamese compound is two syllables)."""
    content = _content(words)
    return content + bigrams([w for w in content if not w.startswith(CLAUSE_MARK)])


class TermIndex:
    """BM25 postings in compressed-row form: for each term, the documents that contain it and the
    term's precomputed BM25 weight in each. Scoring a question is a few vectorised numpy additions,
    so latency stays flat as the knowledge base grows.

    Built from one pair (term, document) per occurrence, as numpy arrays: no per-document Python
    objects, so 30,000 entries index in seconds and in a few bytes per posting. A term is given by
    its code, and its id is the position of that code in ``vocabulary`` (sorted codes). The ``terms``
    given are used up (overwritten) when they are int64.
    """

    def __init__(
        self, terms: np.ndarray, docs: np.ndarray, n_docs: int, vocabulary: np.ndarray, k1: float = 1.2, b: float = 0.4
    ):
        n, width = n_docs, max(n_docs, 1)
        lengths = np.bincount(docs, minlength=n).astype(np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        keys = terms.astype(np.int64, copy=False)  # int64 terms are used up: no copy of every posting
        keys *= width
        keys += docs
        keys.sort()  # by term, then document
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first).astype(np.int32)
        del first
        tf = np.diff(starts, append=np.int32(len(keys))).astype(np.float32)
        keys = keys[starts]
        del starts
        self.docs = np.empty(len(keys), dtype=np.int32)
        np.remainder(keys, width, out=self.docs, casting="unsafe")  # no int64 copy of every posting
        keys //= width  # in place: the term codes
        term = np.searchsorted(vocabulary, keys)  # ascending: a fast binary search
        del keys
        counts = np.bincount(term, minlength=len(vocabulary))
        self.frequency = np.bincount(term, weights=tf, minlength=len(vocabulary))  # occurrences of each term
        del term
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        df = counts.astype(np.float64)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        per_posting_idf = np.repeat(idf, counts).astype(np.float32)
        norm = k1 * (1 - b + b * lengths[self.docs] / avgdl)
        self.weights = per_posting_idf * tf * (k1 + 1) / (tf + norm)
        self.n = n

    def keys(self, first: int = 0, stop: int | None = None) -> np.ndarray:
        """term × n + document of every posting of the terms first…stop, ascending."""
        stop = len(self.offsets) - 1 if stop is None else stop
        a, b = self.offsets[first], self.offsets[stop]
        terms = np.repeat(np.arange(first, stop, dtype=np.int64), np.diff(self.offsets[first : stop + 1]))
        return terms * max(self.n, 1) + self.docs[a:b]

    def shared(self, other: TermIndex) -> np.ndarray:
        """For each term, the documents that have it in both indexes (the same vocabulary and documents).
        By blocks of terms: the keys of every posting of both at once are 150 MB at 100× size."""
        n_terms = len(self.offsets) - 1
        counts = np.zeros(n_terms, dtype=np.int64)
        step = max(1, n_terms * SHARED_BLOCK // max(len(self.docs) + len(other.docs), 1))
        for first in range(0, n_terms, step):
            stop = min(first + step, n_terms)
            mine, theirs = self.keys(first, stop), other.keys(first, stop)
            if len(mine) and len(theirs):
                at = np.searchsorted(mine, theirs).clip(max=len(mine) - 1)
                both = theirs[mine[at] == theirs]
                counts[first:stop] = np.bincount(both // max(self.n, 1) - first, minlength=stop - first)
        return counts

    def scores(self, term_ids: list[int]) -> np.ndarray:
        """BM25 of every document for these terms (float32): their postings end to end, summed per
        document by one np.bincount, so a question costs a handful of numpy calls whatever its length."""
        spans = [(self.offsets[t], self.offsets[t + 1]) for t in term_ids]
        if not spans:
            return np.zeros(self.n, dtype=np.float32)
        docs = np.concatenate([self.docs[a:b] for a, b in spans])
        weights = np.concatenate([self.weights[a:b] for a, b in spans])
        return np.bincount(docs, weights=weights, minlength=self.n).astype(np.float32)


def _spans(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """start..stop of every pair, end to end (np.concatenate of aranges without a Python loop)."""
    lengths = stops - starts
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths - starts, lengths)


def _positions(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.searchsorted as int32, by slices: its int64 result for every term of every phrasing is 70 MB
    at 100× size."""
    out = np.empty(len(values), dtype=np.int32)
    for a in range(0, len(values), SHARED_BLOCK):
        out[a : a + SHARED_BLOCK] = np.searchsorted(sorted_values, values[a : a + SHARED_BLOCK])
    return out


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, sorting ``values`` in place (np.unique without counts hashes: 100×
    slower on millions of values)."""
    values.sort()
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


class _Words:
    """The word ids of texts (:meth:`Normalizer.word_ids`) and what :func:`_terms` makes of them, as
    numpy arrays: a term is a word id, or ``n + a × n + b`` for the bigram of words a and b."""

    def __init__(self, ids: Ids):
        self.vocab = list(ids)
        self.n = len(self.vocab)
        self.dtype = np.int32 if self.n * (self.n + 1) < 2**31 else np.int64  # half the memory when it fits
        self.stop = np.array([w in STOPWORDS for w in self.vocab], dtype=bool)
        self.clause = np.array([w.startswith(CLAUSE_MARK) for w in self.vocab], dtype=bool)

    def terms(self, words: np.ndarray, group: np.ndarray, clauses: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_terms` of each group of words (``group`` labels every word): its content words
        (without clause numbers unless ``clauses``), then bigrams of its content words that are not
        clause numbers. Returns the term codes and their groups."""
        keep = ~self.stop[words]
        words, group = words[keep], group[keep]
        plain = ~self.clause[words]
        p_words, p_group = words[plain], group[plain]
        pair = p_group[1:] == p_group[:-1]
        two = self.n + p_words[:-1][pair].astype(self.dtype) * self.n + p_words[1:][pair]
        if not clauses:
            words, group = p_words, p_group
        return np.concatenate([words.astype(self.dtype), two]), np.concatenate([group, p_group[:-1][pair]])

    def name(self, code: int) -> str:
        if code < self.n:
            return self.vocab[code]
        a, b = divmod(code - self.n, self.n)
        return f"{self.vocab[a]}_{self.vocab[b]}"


class Searcher:
    """Index of a knowledge base; :meth:`search` answers one question."""

    def __init__(self, kb: KnowledgeBase, config: SearchConfig | None = None, *, classifier: bool = True):
        """``classifier=False`` ranks without the phrasing classifier (as a base over ``MODEL_MAX_ENTRIES``
        does): for callers that build many indexes, each of which would train it again."""
        _big_arrays_back_to_the_os()
        self.kb = kb
        self.config = config or SearchConfig()
        self.norm = Normalizer(kb)
        # Out-of-scope examples are indexed as pseudo-entries: when one wins, the bot declines.
        self.entries: list[Entry] = list(kb.entries.values()) + [
            Entry(id=f"{OOS_PREFIX}{o.id}", topic="", title=o.title, questions=o.examples, answer="", sources=())
            for o in kb.out_of_scope
        ]
        self._index()
        # the clauses each entry's sources cite ("khoản 8.5.1" → 8.5.1), and clause → those entries
        self.clauses_of = [
            frozenset(c for s in e.sources for c in CLAUSE.findall(s.ref)) or _NOTHING for e in self.entries
        ]
        citing: dict[str, list[int]] = {}
        for i, clauses in enumerate(self.clauses_of):
            for clause in clauses:
                citing.setdefault(clause, []).append(i)
        self.citing = {c: np.array(ids, dtype=np.int64) for c, ids in citing.items()}
        # numbers that name a source document ("3003" of Công văn 3003/BKHCN-TĐC): a domain term;
        # years and one- or two-digit numbers are everyday numbers
        self.document_numbers = {
            n
            for d in kb.documents.values()
            for n in re.findall(r"\d+", d.cite)
            if len(n) >= 3 and not 1900 <= int(n) <= 2100
        }
        frequency, in_answers = (self.q_index.frequency + self.a_index.frequency).tolist(), self.a_index.frequency
        words = {t: i for t, i in self.term_ids.items() if "_" not in t}
        trusted = {t for t, i in words.items() if in_answers[i]}  # and what curators list as keywords:
        trusted.update(w for e in self.entries for k in e.keywords for w in fold(k).split())
        self.norm.set_vocab(set(words), {t: int(frequency[i]) for t, i in words.items()}, trusted)
        self.model = self._train() if classifier and len(self.entries) <= MODEL_MAX_ENTRIES else None
        # what each entry answers: the facets it declares and those its title (a question) names
        self.entry_facets = [frozenset(e.facets) | facets_of(self.kb, fold(e.title)) or _NOTHING for e in self.entries]
        # the entry of each term of the vocabulary ("rủi ro là gì" → tv-rui-ro), by its folded names
        self.defines: dict[str, list[int]] = {}
        # a vocabulary record names its own terms: for "chuẩn mực đánh giá là gì" it is the answer, not an
        # entry that defines several terms and so took the "là gì" phrasing ("Bằng chứng, phát hiện… là gì")
        for i, e in enumerate(self.entries):
            for name in e.defines:
                self.defines.setdefault(fold(name), []).append(i)
        recorded = set(self.defines)
        for i, e in enumerate(self.entries):
            if e.topic == DEFINITION_TOPIC and not e.defines and "-vs-" not in e.id:
                for q in e.questions:
                    name = fold(q).removesuffix(" la gi")
                    if name != fold(q) and name and name not in recorded and i not in self.defines.get(name, ()):
                        self.defines.setdefault(name, []).append(i)

    def _index(self) -> None:
        """BM25 over the question field (title, example questions, keywords) and the answer field, and
        the terms of every phrasing (title or example question) for the F-score of :meth:`_rank`.

        All texts are turned into word ids in bulk and everything after is numpy over flat arrays:
        per-entry Python lists and sets made the index of a 30,000-entry base take a minute and 2 GB.
        """
        texts, entry_of, phrasing = [], [], []
        for i, e in enumerate(self.entries):
            for k, text in enumerate((e.title, *e.questions, *e.keywords)):  # keywords widen the vocabulary
                texts.append(text)  # but are not phrasings
                entry_of.append(i)
                phrasing.append(k <= len(e.questions))
        ids = Ids()
        q_words, q_lengths = self.norm.word_ids(texts, ids)
        del texts
        entry_of_text, is_phrasing = np.array(entry_of, dtype=np.int32), np.array(phrasing, dtype=bool)
        del entry_of, phrasing  # Python lists of a million items at 100× size
        a_words, a_lengths = self.norm.word_ids([e.answer for e in self.entries], ids)
        words = _Words(ids)
        n = len(self.entries)
        text_of = np.repeat(np.arange(len(q_lengths), dtype=np.int32), q_lengths)
        q_terms, q_docs = words.terms(q_words, entry_of_text[text_of])
        a_terms, a_docs = words.terms(a_words, np.repeat(np.arange(n, dtype=np.int32), a_lengths))
        del a_words
        codes = _distinct(np.concatenate([q_terms, a_terms]))
        names = [words.name(c) for c in codes.tolist()]
        self.term_ids = dict(zip(names, range(len(names)), strict=False))
        self.q_index = TermIndex(q_terms, q_docs, n, codes, b=Q_FIELD_B)
        del q_terms, q_docs
        self.a_index = TermIndex(a_terms, a_docs, n, codes)
        del a_terms, a_docs
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        # document frequency over question and answer fields together (a term counts once per entry)
        df = (np.diff(self.q_index.offsets) + np.diff(self.a_index.offsets) - self.q_index.shared(self.a_index)).astype(
            np.float64
        )
        self.idf_by_id = np.log(1 + (n - df + 0.5) / (df + 0.5))
        # two-syllable words of the knowledge base: "van phong" and "van ban" share a syllable, not a meaning
        count = (self.q_index.frequency + self.a_index.frequency).astype(np.int64).tolist()
        self.words2 = {
            t
            for t, c in zip(names, count, strict=False)
            if c >= WORD_MIN
            and "_" in t
            and "#" not in t
            and c >= WORD_SHARE * min(count[self.term_ids[p]] for p in t.split("_"))
        }
        del count
        per_entry = np.bincount(entry_of_text[is_phrasing], minlength=n)
        self.entry_start = np.concatenate(([0], np.cumsum(per_entry)))  # entry i: phrasings entry_start[i]…[i + 1]
        # the words of the phrasings (not keywords), each labelled with its phrasing's number
        n_phr = int(is_phrasing.sum())
        at = is_phrasing[text_of]
        p_words, p_of = q_words[at], (np.cumsum(is_phrasing) - 1).astype(np.int32)[text_of[at]]
        del q_words, text_of, at
        self._index_phrasings(words, p_words, p_of, n_phr, codes, names)

    def _index_phrasings(
        self,
        words: _Words,
        p_words: np.ndarray,
        p_of: np.ndarray,
        n_phr: int,
        codes: np.ndarray,
        names: list[str],
    ) -> None:
        """Each phrasing's content words, sorted, as a string (for rapidfuzz) and its distinct terms in
        compressed-row form (``phrasing_terms[phrasing_start[p]:phrasing_start[p + 1]]``). Clause tokens
        count in coverage and BM25 only: a phrasing that names a clause is not a worse match for a
        question that does not. ``p_words`` are the phrasings' words end to end, ``p_of`` the phrasing
        of each."""
        keep = ~words.stop[p_words] & ~words.clause[p_words]
        kept, kept_of = p_words[keep], p_of[keep]  # the strings are made last: the peak comes first
        del keep
        terms, p_of = words.terms(p_words, p_of, clauses=False)
        n_terms = max(len(names), 1)
        term = _positions(codes, terms)  # each term's id (codes are sorted)
        del terms
        pairs = p_of.astype(np.int64)  # (phrasing, term id) pairs, in place from here: millions of them
        del p_of
        pairs *= n_terms
        pairs += term
        del term
        pairs = _distinct(pairs)  # by phrasing, each term once
        self.phrasing_start = np.searchsorted(pairs, np.arange(n_phr + 1, dtype=np.int64) * n_terms)
        np.remainder(pairs, n_terms, out=pairs)  # in place: no second array of every pair
        self.phrasing_terms = pairs.astype(np.int32)
        del pairs
        boost = np.where([t.startswith("#") for t in names], TAG_BOOST, 1.0)
        weight = self.idf_by_id * boost
        self.phrasing_total = np.zeros(n_phr)
        for a in range(0, n_phr, CHUNK_PHRASINGS):  # by slices: the weight of every pair at once is 100 MB at 100×
            b = min(a + CHUNK_PHRASINGS, n_phr)
            lo, hi = self.phrasing_start[a], self.phrasing_start[b]
            self.phrasing_total[a:b] = np.bincount(
                np.repeat(np.arange(b - a), np.diff(self.phrasing_start[a : b + 1])),
                weights=weight[self.phrasing_terms[lo:hi]],
                minlength=b - a,
            )
        bounds = np.searchsorted(kept_of, np.arange(n_phr + 1)).tolist()
        # each phrasing's words in sorted order (numpy sorts strings by code point, as Python does):
        # token_set_ratio depends only on the set of words, and token_sort_ratio is the ratio of the
        # sorted words, so ranking calls plain ratio on these, several times cheaper
        rank = np.empty(words.n, dtype=np.int32)
        rank[np.argsort(np.array(words.vocab))] = np.arange(words.n, dtype=np.int32)
        kept = kept[np.lexsort((rank[kept], kept_of))]
        del rank
        spelt = np.array(words.vocab, dtype=object)[kept]  # the words themselves, not copies
        self.phrasings = [" ".join(spelt[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
        del spelt, kept, kept_of

    def _train(self) -> PhrasingModel:
        """The phrasing classifier, on the phrasings as the normalizer reads a question."""
        texts, labels = [], []
        for i, e in enumerate(self.entries):
            for text in (e.title, *e.questions):
                texts.append(self._model_words(text))
                labels.append(i)
        return PhrasingModel.fit(texts, labels, len(self.entries))

    def _model_words(self, text: str) -> tuple[list[str], frozenset[str]]:
        """What the classifier reads of a text: its normalized words and the facets it asks (as :meth:`_rank`)."""
        words, _, _ = self.norm.query_words(text[:MAX_QUERY_CHARS])
        return _unmarked(words), self.asked_facets(fold(text[:MAX_QUERY_CHARS]), _repaired(words))

    # ------------------------------------------------------------------ scoring

    def _idf(self, term: str) -> float:
        tid = self.term_ids.get(term)
        idf = self.max_idf if tid is None else float(self.idf_by_id[tid])
        return idf * TAG_BOOST if term.startswith("#") else idf

    def _credit(self, term_ids: list[int], candidates: np.ndarray) -> np.ndarray:
        """terms × candidates: 1 when the term is in the candidate's phrasings, ANSWER_FIELD_CREDIT
        when only in its answer, else 0. Each term's postings are sorted by document: binary searches
        for the few candidates, rather than a pass over every posting of a common word."""
        shape = (len(term_ids), len(candidates))
        if not term_ids or not len(candidates):
            return np.zeros(shape)
        ids = np.asarray(term_ids, dtype=np.int64)
        rows = np.arange(len(ids), dtype=np.int64) * max(self.q_index.n, 1)  # both fields index the entries
        asked = (rows[:, None] + candidates[None, :]).ravel()
        found = []
        for index in (self.q_index, self.a_index):
            # every term's postings end to end, keyed row × n + document: ascending, since each term's
            # are; one binary search then answers every (term, candidate) pair
            starts, stops = index.offsets[ids], index.offsets[ids + 1]
            keys = np.repeat(rows, stops - starts)
            keys += index.docs[_spans(starts, stops)]
            if not len(keys):
                found.append(np.zeros(shape, dtype=bool))
                continue
            at = np.searchsorted(keys, asked)
            np.minimum(at, len(keys) - 1, out=at)
            found.append((keys[at] == asked).reshape(shape))
        return np.where(found[0], 1.0, np.where(found[1], ANSWER_FIELD_CREDIT, 0.0))

    def _split_words(self, terms: list[str], credit: np.ndarray) -> np.ndarray:
        """A syllable of a two-syllable word of the question counts SPLIT_CREDIT where the candidate has
        the syllable but not the word: "văn phòng" in the question, only "văn bản" in the entry."""
        row = {t: j for j, t in enumerate(terms)}
        words_of: dict[int, list[int]] = {}
        for t in terms:
            if t in self.words2:
                for syllable in t.split("_"):
                    if syllable in row:
                        words_of.setdefault(row[syllable], []).append(row[t])
        for j, rows in words_of.items():
            credit[j] = np.where((credit[rows] > 0).any(axis=0), credit[j], credit[j] * SPLIT_CREDIT)
        return credit

    def _clause_points(self, i: int, asked: list[str]) -> float:
        """Ranking points of entry ``i`` for the clauses a question names: full when its sources cite
        one, half when they cite a sub-clause of one ("5.1" → an entry on 5.1.1)."""
        cited = self.clauses_of[i]
        if not cited:
            return 0.0
        if any(a in cited for a in asked):
            return CLAUSE_POINTS
        if any(c.startswith(a + ".") for a in asked for c in cited):
            return CLAUSE_POINTS / 2
        return 0.0

    def asked_facets(self, folded: str, repaired: str) -> frozenset[str]:
        """The kinds of answer a question asks for (frequency, records…), from its folded text as typed
        and as repaired, with chat spellings read as words ("gồm những j", "bn lâu", "đk nào")."""
        chat = _CHAT.sub(lambda m: CHAT_PHRASES.get(m.group(0)) or CHAT_WORDS[m.group(0)], repaired)
        return (facets_of(self.kb, folded) | facets_of(self.kb, chat)) - {"overview"}

    def _facet_points(self, i: int, asked: frozenset[str], clause: bool) -> float:
        """Ranking points of entry ``i`` for the kind of question: it answers that kind, or it is a broad
        entry and the question asks one precise thing (a facet, or a clause by number), or it defines a
        term and the question asks something else about it (when, who, which records…)."""
        facets = self.entry_facets[i]
        points = FACET_POINTS if asked & facets else 0.0
        if "overview" in facets and (asked or clause):
            points -= OVERVIEW_PENALTY
        if "definition" in facets and asked and not asked & {"definition", "difference"}:
            points -= DEFINITION_PENALTY  # "khi nào phải ĐGNB": not what ĐGNB is
        return points

    def _defined(self, folded: str) -> set[int]:
        """The vocabulary entries of the terms a definition question names, the longest name only
        ("tư duy dựa trên rủi ro là gì" is about that term, not "rủi ro"): a look-up of the question's
        word runs, longest first."""
        words = folded.split()
        for n in range(min(DEFINED_MAX_WORDS, len(words)), 0, -1):
            found = {i for k in range(len(words) - n + 1) for i in self.defines.get(" ".join(words[k : k + n]), ())}
            if found:
                return found
        return set()

    def _citing_best(self, asked: list[str], bm: np.ndarray) -> np.ndarray:
        """Up to CLAUSE_CANDIDATES entries citing an asked clause exactly, best BM25 first: they join
        the candidates even when the question's words did not bring them in."""
        found = [self.citing[a] for a in asked if a in self.citing]
        if not found:
            return np.zeros(0, dtype=np.int64)
        ids = np.unique(np.concatenate(found))
        return ids[np.argsort(-bm[ids], kind="stable")[:CLAUSE_CANDIDATES]]

    def _phrasing_f1(self, phr: np.ndarray, q_terms: dict[str, float], q_total: float) -> np.ndarray:
        """Idf-weighted F-score of the question's terms against each phrasing in ``phr`` (0 when they
        share no term): how fully one phrasing says what was asked, and no more."""
        known = sorted((self.term_ids[t], w) for t, w in q_terms.items() if t in self.term_ids)
        q_ids = np.array([t for t, _ in known], dtype=np.int64)
        q_w = np.array([w for _, w in known], dtype=np.float64)
        starts, stops = self.phrasing_start[phr], self.phrasing_start[phr + 1]
        at = _spans(starts, stops)
        label = np.repeat(np.arange(len(phr)), stops - starts)
        terms = self.phrasing_terms[at]
        k = np.searchsorted(q_ids, terms)
        np.minimum(k, max(len(q_ids) - 1, 0), out=k)
        hit = q_ids[k] == terms if len(q_ids) else np.zeros(len(terms), dtype=bool)
        overlap = np.bincount(label[hit], weights=q_w[k[hit]], minlength=len(phr))
        with np.errstate(divide="ignore", invalid="ignore"):
            recall, precision = overlap / q_total, overlap / self.phrasing_total[phr]
            f1 = (1 + F_BETA2) * recall * precision / (F_BETA2 * precision + recall)
        return np.where(overlap > 0, f1, 0.0)

    def rank(self, question: str, limit: int = 5) -> tuple[str, list[Hit]]:
        """Normalized question and the best ``limit`` entries with calibrated scores."""
        normalized, hits, _ = self._rank(question, limit)
        return normalized, hits

    def _rank(self, question: str, limit: int) -> tuple[str, list[Hit], set[str]]:
        words, repaired, guessed = self.norm.query_words(question[:MAX_QUERY_CHARS])
        normalized = " ".join(words)
        content = list(dict.fromkeys(_content(words)))
        if not content:
            return normalized, [], guessed
        all_terms = list(dict.fromkeys(_terms(words)))
        terms = [t for t in all_terms if t in self.term_ids]  # known terms only
        term_ids = [self.term_ids[t] for t in terms]
        bm_q, bm_a = self.q_index.scores(term_ids), self.a_index.scores(term_ids)
        bm = bm_q + np.float32(ANSWER_BM25) * bm_a
        hit_count = int(np.count_nonzero(bm))
        if not hit_count:
            return normalized, [], guessed
        k = min(CANDIDATES, hit_count)
        top = np.argpartition(-bm, k - 1)[:k]
        candidates = np.sort(top[np.lexsort((top, -bm[top]))][:k])
        asked = CLAUSE.findall(question[:MAX_QUERY_CHARS])
        folded_question = fold(question[:MAX_QUERY_CHARS])
        # the kind of question, as typed and as repaired ("laf gif" → "là gì"; no tags or clause tokens)
        repaired_words = _repaired(words)
        q_facets = self.asked_facets(folded_question, repaired_words)
        model = self.model.scores((_unmarked(words), q_facets)) if self.model else None
        model_best = -1
        if model is not None:
            best_model = np.argpartition(-model, MODEL_CANDIDATES)[:MODEL_CANDIDATES]
            candidates = np.union1d(candidates, best_model.astype(candidates.dtype))
            model_best = int(np.argmax(model))
        if asked:
            candidates = np.union1d(candidates, self._citing_best(asked, bm).astype(candidates.dtype))
        defined = set()
        # as typed, else as repaired ("thế nào là ddaauf ra" → "đầu ra"); "A và B khác nhau thế nào theo
        # TCVN ISO 9000" names two terms and asks for neither definition
        if "definition" in q_facets and "difference" not in q_facets:
            defined = self._defined(folded_question) or self._defined(repaired_words)
        if defined:
            candidates = np.union1d(candidates, np.array(sorted(defined), dtype=candidates.dtype))
        uni_w = {t: self._idf(t) * (REPAIRED_CREDIT if t in repaired else 1.0) for t in content}
        bi_w = {t: self._idf(t) for t in all_terms if "_" in t}
        credit = self._split_words(terms, self._credit(term_ids, candidates))
        cov = _coverage(uni_w, terms, credit)
        if bi_w:
            cov = (1 - BIGRAM_SHARE) * cov + BIGRAM_SHARE * _coverage(bi_w, terms, credit)
        plain = [t for t in content if not t.startswith(CLAUSE_MARK)]  # clause tokens: coverage only
        q_terms = {**{t: uni_w[t] for t in plain}, **bi_w}
        q_total = sum(q_terms.values())
        folded_q = " ".join(words)
        definition = any(t.startswith("#") for t in content) and bool(DEFINITION_CUES.search(folded_q))
        query_str = " ".join(plain)
        top_bm = float(bm[candidates].max()) or 1.0
        top_q = float(bm_q[candidates].max()) or 1.0
        whole = bm_q + bm_a
        top_whole = float(whole[candidates].max()) or 1.0
        cand = candidates.tolist()
        phr = _spans(self.entry_start[candidates], self.entry_start[candidates + 1])  # their phrasings
        choices = [self.phrasings[p] for p in phr.tolist()]
        fuzzy = (
            0.3 * process.cdist([query_str], choices, scorer=fuzz.token_set_ratio)[0]
            + 0.7 * process.cdist([" ".join(sorted(plain))], choices, scorer=fuzz.ratio)[0]  # = token_sort_ratio
        )
        per_candidate = self.entry_start[candidates + 1] - self.entry_start[candidates]
        first = np.cumsum(per_candidate) - per_candidate  # of each in phr
        best_f1 = np.maximum.reduceat(self._phrasing_f1(phr, q_terms, q_total), first).tolist()
        best_fz = np.maximum.reduceat(fuzzy, first).tolist()
        hits = []
        for c, i in enumerate(cand):
            f1, fz = best_f1[c], best_fz[c]
            score = 100 * (W_COVERAGE * cov[c] + W_PHRASING * f1 + W_FUZZY * fz / 100)
            score += BM25_POINTS * float(bm[i]) / top_bm  # lexical evidence relative to the best candidate
            if definition and self.entries[i].topic == DEFINITION_TOPIC:
                score += DEFINITION_POINTS
            # Ranking adds the phrasing-field BM25 (strong evidence of *which* entry) and the BM25 of the
            # whole entry, answer included; the gate uses the calibrated score alone, so neither can make
            # an off-topic question look answerable.
            key = score + RANK_BM25 * float(bm_q[i]) / top_q + RANK_ENTRY_BM25 * float(whole[i]) / top_whole
            if asked:
                key += self._clause_points(i, asked)
            key += self._facet_points(i, q_facets, bool(asked))
            if i in defined:
                key += DEFINED_POINTS
            vote = None if model is None else float(model[i])
            voted_first = i == model_best
            hits.append(Hit(self.entries[i], round(min(float(score), 100.0), 1), key, vote, voted_first))
        if model is not None:
            leader = max(range(len(hits)), key=lambda c: hits[c].rank_key)
            weight = MODEL_POINTS * (CLOSE_MODEL_SHARE if best_f1[leader] >= CLOSE_PHRASING else 1.0)
            for h in hits:
                h.rank_key += weight * (h.vote or 0.0)
        hits.sort(key=lambda h: (-h.rank_key, h.entry.id))
        return normalized, hits[:limit], guessed

    def search(self, question: str) -> SearchResult:
        """Rank, then gate: answer (score ≥ answer threshold), suggest, or decline.

        When an out-of-scope example is the closest match the question is declined whatever its score;
        when one comes within ``out_of_scope_margin`` of the best entry, the bot only suggests.
        """
        normalized, ranked, guessed = self._rank(question, 6)
        typed = normalized.split()
        content = _content(typed)
        if typed and all(w.isascii() and w.isdigit() and w not in self.document_numbers for w in typed):
            # numbers only ("5", "2 3": an option typed where there is no menu); not a clause ("9.2" is §9.2)
            # nor the number of a source document ("5335")
            return SearchResult(question, normalized, "empty")
        if ranked and len(content) <= 2 and all(w in guessed for w in content):
            # every informative word had to be guessed ("xin chao" → "cao"): too little to answer on
            return SearchResult(question, normalized, "decline", ranked[0], [])
        if not ranked:
            outcome = "empty" if not content else "decline"
            return SearchResult(question, normalized, outcome)
        hits = [h for h in ranked if not h.entry.id.startswith(OOS_PREFIX)][:4]
        cfg = self.config
        if ranked[0].entry.id.startswith(OOS_PREFIX) or not hits:
            # a question that names ISO, with a good entry nearly as close as the off-topic example
            # ("chủ tịch xã mới về cần làm gì với ISO" ~ "chủ tịch xã mới được bổ nhiệm khi nào"), is
            # offered that entry rather than declined
            if (
                hits
                and ISO_MARKERS.search(normalized)
                and hits[0].score >= cfg.answer_threshold
                and ranked[0].score - hits[0].score < ISO_OFF_TOPIC_MARGIN
            ):
                alts = [h for h in hits if h.score >= cfg.suggest_threshold]
                return SearchResult(question, normalized, "suggest", hits[0], alts[:3])
            return SearchResult(question, normalized, "decline", hits[0] if hits else None, [])
        best, rest = hits[0], hits[1:]
        plain = [w for w in content if not w.startswith("#") and w not in self.norm.generic_words]
        domain_term = (
            any(w.startswith("#") and w not in self.norm.generic_tags for w in content)
            or bool(DOMAIN_MARKERS.search(normalized))
            or any(w in self.document_numbers for w in content)
        )
        if len(set(plain)) <= SHORT_QUERY_WORDS and not domain_term:
            # a few everyday words and no domain term ("hom nay thu may" folds like "hòm thư"): be stricter
            threshold = cfg.answer_threshold + SHORT_QUERY_EXTRA
        else:
            threshold = cfg.answer_threshold
        # a rival ranked nearly as high (another facet, a neighbouring topic): answer only on strong evidence
        if rest and best.rank_key - rest[0].rank_key < cfg.lead:
            threshold = max(threshold, cfg.contested_threshold)
        # nearly as close to an off-topic example as to the best entry: not sure enough to answer
        off_topic = [h.score for h in ranked if h.entry.id.startswith(OOS_PREFIX)]
        near_off_topic = bool(off_topic) and best.score - max(off_topic) < cfg.out_of_scope_margin
        lead = best.rank_key - rest[0].rank_key if rest else math.inf
        sure = best.score >= threshold
        if sure and best.vote is not None and best.vote < MODEL_DOUBT:
            # the classifier doubts it: answer only on a high score or a clear lead
            sure = best.score >= DOUBT_SCORE or lead >= DOUBT_LEAD
        elif (
            threshold == cfg.answer_threshold
            and best.voted_first
            and best.vote is not None
            and best.vote >= MODEL_DOUBT
        ):
            # a weak score, but the classifier picks the same entry without doubt ("xã em… thì làm sao ạ"); not
            # for a few everyday words, nor against a close rival
            sure = best.score >= cfg.suggest_threshold
        if sure and not near_off_topic:
            close = [h for h in rest if best.score - h.score < cfg.margin and h.score >= cfg.suggest_threshold]
            return SearchResult(question, normalized, "answer", best, close[:3])
        if best.score >= cfg.suggest_threshold:
            alts = [h for h in hits if h.score >= cfg.suggest_threshold]
            return SearchResult(question, normalized, "suggest", best, alts[:3])
        return SearchResult(question, normalized, "decline", best, [])
