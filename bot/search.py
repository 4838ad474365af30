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

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.config import SearchConfig
from bot.knowledge import Entry, KnowledgeBase
from bot.text import STOPWORDS, bigrams, fold, telex_decode

MAX_QUERY_CHARS = 300
OOS_PREFIX = "oos:"        # id prefix of out-of-scope pseudo-entries
CANDIDATES = 40            # entries re-ranked with fuzzy matching
W_COVERAGE = 0.35          # idf-weighted share of the question's words that the entry covers
W_PHRASING = 0.35          # idf-weighted F1 overlap with the entry's closest phrasing
W_FUZZY = 0.30             # rapidfuzz similarity to the closest phrasing (typos, word order)
ANSWER_FIELD_CREDIT = 0.3  # a word found only in the answer counts this much
REPAIRED_CREDIT = 0.7      # a word we had to repair (typo) counts this much
TAG_BOOST = 2.0            # glossary terms (#kph, #dgnb) name the topic: they outweigh generic words


@dataclass
class Hit:
    """One candidate entry with its calibrated score (0–100)."""

    entry: Entry
    score: float


@dataclass
class SearchResult:
    """What the gate decided for one question."""

    query: str
    normalized: str
    outcome: str                 # "answer" | "suggest" | "decline" | "empty"
    best: Hit | None = None
    alternatives: list[Hit] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.outcome == "answer"


class BM25:
    """A small BM25 index over bags of terms, with postings for fast candidate generation."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.4):
        self.k1, self.b = k1, b
        self.n = len(docs)
        self.lengths = [len(d) for d in docs]
        self.avgdl = (sum(self.lengths) / self.n) if self.n else 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                self.postings[term].append((i, tf))
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self.max_idf = math.log(1 + (self.n + 0.5) / 0.5)

    def scores(self, terms: list[str]) -> dict[int, float]:
        """BM25 score of every document that shares a term with ``terms``."""
        out: dict[int, float] = defaultdict(float)
        for term in set(terms):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avgdl)
                out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


class Normalizer:
    """Folds text and rewrites glossary variants; repairs unknown words against a vocabulary."""

    def __init__(self, kb: KnowledgeBase):
        pairs: dict[str, str] = {}
        for term in kb.glossary:
            target = fold(term.expansion)
            tag = "#" + fold(term.term).replace(" ", "")
            for variant in (term.expansion, term.term, *term.variants):
                key = fold(variant)
                if key:
                    pairs[key] = f"{target} {tag}"
        self.rewrites = pairs
        alternation = "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
        self._rx = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)") if pairs else None
        self.vocab: set[str] = set()
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
        """Folded and rewritten words (no repair): used for index-side text."""
        return self.rewrite(fold(text)).split()

    def set_vocab(self, vocab: set[str]) -> None:
        self.vocab = vocab
        self._vocab_list = sorted(w for w in vocab if len(w) >= 3)
        self._repair_cache.clear()

    def repair(self, word: str) -> tuple[list[str], bool]:
        """Map an unknown word to known ones: Telex residue, glued words, one or two typos."""
        if word in self.vocab or word in STOPWORDS or word.isdigit() or len(word) < 3 or word.startswith("#"):
            return [word], False
        if word in self._repair_cache:
            return self._repair_cache[word]
        result: tuple[list[str], bool] = ([word], False)
        decoded = telex_decode(word)
        if decoded in self.vocab or decoded in STOPWORDS:
            result = ([decoded], True)
        else:
            split = self._split(word) or self._split(decoded)
            if split:
                result = (split, True)
            elif len(word) == 3:  # short syllables: only a swap of two letters ("lna" → "lan")
                swaps = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(2)}
                known = sorted(swaps & self.vocab)
                if known:
                    result = ([known[0]], True)
            elif len(word) >= 4:
                limit = 1 if len(word) <= 6 else 2
                best = process.extractOne(word, self._vocab_list, scorer=OSA.distance, score_cutoff=limit)
                if best is None and decoded != word:
                    best = process.extractOne(decoded, self._vocab_list, scorer=OSA.distance, score_cutoff=limit)
                if best is not None:
                    result = ([best[0]], True)
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

    def query_words(self, text: str) -> tuple[list[str], set[str]]:
        """Words of a user question after repair, and the set of words that needed repair."""
        words = self.words(text)
        out: list[str] = []
        repaired: set[str] = set()
        for w in words:
            fixed, changed = self.repair(w) if not w.startswith("#") else ([w], False)
            out += fixed
            if changed:
                repaired.update(fixed)
        if repaired:
            # a repair can complete a glossary phrase ("ddanhs gias noi booj" → "danh gia noi bo")
            out = self.rewrite(" ".join(w for w in out if not w.startswith("#"))).split()
        return out, repaired


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def _terms(words: list[str]) -> list[str]:
    """Unigrams plus bigrams of content words (a Vietnamese compound is two syllables)."""
    content = _content(words)
    return content + bigrams(content)


class Searcher:
    """Index of a knowledge base; :meth:`search` answers one question."""

    def __init__(self, kb: KnowledgeBase, config: SearchConfig | None = None):
        self.kb = kb
        self.config = config or SearchConfig()
        self.norm = Normalizer(kb)
        # Out-of-scope examples are indexed as pseudo-entries: when one wins, the bot declines.
        self.entries: list[Entry] = list(kb.entries.values()) + [
            Entry(id=f"{OOS_PREFIX}{o.id}", topic="", title=o.title, questions=o.examples, answer="", sources=())
            for o in kb.out_of_scope
        ]
        q_docs, a_docs, all_docs = [], [], []
        self.phrasings: list[str] = []          # content-word strings of every phrasing
        self.phrasing_terms: list[frozenset[str]] = []
        self.phrasing_owner: list[int] = []     # entry index of each phrasing
        self.q_vocab: list[set[str]] = []
        self.a_vocab: list[set[str]] = []
        for i, e in enumerate(self.entries):
            q_words: list[str] = []
            for text in (e.title, *e.questions):
                words = self.norm.words(text)
                q_words += words
                self.phrasings.append(" ".join(_content(words)))
                self.phrasing_terms.append(frozenset(_terms(words)))
                self.phrasing_owner.append(i)
            for text in e.keywords:  # keywords widen the vocabulary but are not phrasings
                q_words += self.norm.words(text)
            a_words = self.norm.words(e.answer)
            q_docs.append(_terms(q_words))
            a_docs.append(_terms(a_words))
            all_docs.append(list(set(q_docs[-1]) | set(a_docs[-1])))
            self.q_vocab.append(set(q_docs[-1]))
            self.a_vocab.append(set(a_docs[-1]))
        self.q_index = BM25(q_docs)
        self.a_index = BM25(a_docs)
        self.df_index = BM25(all_docs)
        vocab = {t for t in self.df_index.postings if "_" not in t}
        self.norm.set_vocab(vocab)
        self._phr_by_entry: dict[int, list[int]] = defaultdict(list)
        for p, i in enumerate(self.phrasing_owner):
            self._phr_by_entry[i].append(p)

    # ------------------------------------------------------------------ scoring

    def _idf(self, term: str) -> float:
        idf = self.df_index.idf.get(term, self.df_index.max_idf)
        return idf * TAG_BOOST if term.startswith("#") else idf

    def rank(self, question: str, limit: int = 5) -> tuple[str, list[Hit]]:
        """Normalized question and the best ``limit`` entries with calibrated scores."""
        words, repaired = self.norm.query_words(question[:MAX_QUERY_CHARS])
        normalized = " ".join(words)
        content = list(dict.fromkeys(_content(words)))
        if not content:
            return normalized, []
        terms = _terms(words)
        bm = self.q_index.scores(terms)
        for i, s in self.a_index.scores(terms).items():
            bm[i] = bm.get(i, 0.0) + 0.3 * s
        if not bm:
            return normalized, []
        candidates = sorted(bm, key=bm.get, reverse=True)[:CANDIDATES]
        uni_w = {t: self._idf(t) * (REPAIRED_CREDIT if t in repaired else 1.0) for t in content}
        bis = list(dict.fromkeys(bigrams(_content(words))))
        bi_w = {t: self._idf(t) for t in bis}
        uni_total, bi_total = sum(uni_w.values()), sum(bi_w.values())
        query_str = " ".join(content)
        top_bm = bm[candidates[0]] or 1.0
        q_terms = {**uni_w, **bi_w}
        q_total = uni_total + bi_total
        hits = []
        for i in candidates:
            qv, av = self.q_vocab[i], self.a_vocab[i]
            cov = sum(w * (1.0 if t in qv else ANSWER_FIELD_CREDIT if t in av else 0.0) for t, w in uni_w.items()) / uni_total
            if bi_total:
                cov_bi = sum(w * (1.0 if t in qv else ANSWER_FIELD_CREDIT if t in av else 0.0) for t, w in bi_w.items()) / bi_total
                cov = 0.75 * cov + 0.25 * cov_bi
            f1 = fz = 0.0
            for p in self._phr_by_entry[i]:
                terms = self.phrasing_terms[p]
                overlap = sum(w for t, w in q_terms.items() if t in terms)
                if overlap:
                    p_total = sum(self._idf(t) for t in terms)
                    recall, precision = overlap / q_total, overlap / p_total
                    f1 = max(f1, 2 * recall * precision / (recall + precision))
                phr = self.phrasings[p]
                fz = max(fz, 0.3 * fuzz.token_set_ratio(query_str, phr) + 0.7 * fuzz.token_sort_ratio(query_str, phr))
            score = 100 * (W_COVERAGE * cov + W_PHRASING * f1 + W_FUZZY * fz / 100)
            score += 2.0 * bm[i] / top_bm  # small lexical tie-break, at most 2 points
            hits.append(Hit(self.entries[i], round(min(score, 100.0), 1)))
        hits.sort(key=lambda h: h.score, reverse=True)
        return normalized, hits[:limit]

    def search(self, question: str) -> SearchResult:
        """Rank, then gate: answer (score ≥ answer threshold), suggest, or decline.

        When an out-of-scope example is the closest match the question is declined whatever its score.
        """
        normalized, ranked = self.rank(question, limit=6)
        if not ranked:
            outcome = "empty" if not _content(normalized.split()) else "decline"
            return SearchResult(question, normalized, outcome)
        hits = [h for h in ranked if not h.entry.id.startswith(OOS_PREFIX)][:4]
        if ranked[0].entry.id.startswith(OOS_PREFIX) or not hits:
            return SearchResult(question, normalized, "decline", hits[0] if hits else None, [])
        cfg = self.config
        best, rest = hits[0], hits[1:]
        if best.score >= cfg.answer_threshold:
            close = [h for h in rest if best.score - h.score < cfg.margin and h.score >= cfg.suggest_threshold]
            return SearchResult(question, normalized, "answer", best, close[:3])
        if best.score >= cfg.suggest_threshold:
            alts = [h for h in hits if h.score >= cfg.suggest_threshold]
            return SearchResult(question, normalized, "suggest", best, alts[:3])
        return SearchResult(question, normalized, "decline", best, [])
