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
from array import array
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.config import SearchConfig
from bot.knowledge import Entry, KnowledgeBase, facets_of
from bot.text import CLAUSE, STOPWORDS, bigrams, compound_pairs, fold, telex_decode

MAX_QUERY_CHARS = 300
# "1 lần", "1 năm" are typed for "một lần", "một năm"; a lone 1 elsewhere (khoản 9.1) keeps its meaning
_ONE = re.compile(r"(?<![\w])1 (lan|nam|thang|tuan|ngay|dot|quy|ky|nguoi|cai|buoi)(?!\w)")
# "cho em hỏi", "ad ơi cho mình hỏi chút": how a message opens, not what it asks ("hỏi" folds like
# the "hội" of "cơ hội")
COURTESY = re.compile(r"(?:^|(?<= ))(?:(?:ad|admin|anh|chi|ban|a) (?:oi )?)?"
                      r"(?:cho (?:em|minh|toi|tui|chau|e) (?:duoc )?hoi|xin (?:duoc )?hoi|(?:em|e|minh|toi) (?:muon )?hoi)"
                      r"(?: (?:chut|ti|xiu|voi|ve|la))?(?= |$)")
OOS_PREFIX = "oos:"        # id prefix of out-of-scope pseudo-entries
SHORT_QUERY_WORDS = 4      # questions with this few informative words and no glossary term…
SHORT_QUERY_EXTRA = 25.0
DOMAIN_MARKERS = re.compile(r"(?:^| )(?:iso|tcvn|9001|khoan \d+|dieu \d+|\d+ \d+)(?: |$)")  # "khoản 8.4", "9.2"   # …need this many more points to be answered
CANDIDATES = 15            # entries re-ranked with fuzzy matching
W_COVERAGE = 0.35          # idf-weighted share of the question's words that the entry covers
W_PHRASING = 0.35          # idf-weighted F1 overlap with the entry's closest phrasing
W_FUZZY = 0.30             # rapidfuzz similarity to the closest phrasing (typos, word order)
ANSWER_FIELD_CREDIT = 0.3  # a word found only in the answer counts this much
REPAIRED_CREDIT = 0.7      # a word we had to repair (typo) counts this much
ANSWER_BM25 = 0.3          # weight of the answer field in the BM25 candidate score
Q_FIELD_B = 0.4            # BM25 length normalisation of the phrasing field
RANK_BM25 = 8.0            # ranking only: points for phrasing-field BM25 relative to the best candidate
RANK_ENTRY_BM25 = 6.0      # ranking only: the same for BM25 over the whole entry, answer at full weight
BM25_POINTS = 2.0          # at most this many points for BM25 relative to the best candidate
BIGRAM_SHARE = 0.25        # share of syllable-bigram coverage (compounds) in the coverage feature
F_BETA2 = 1.0              # β² of the phrasing F-score (>1 favours recall of the question's words)
DEFINITION_TOPIC = "thuat-ngu"   # "X là gì / viết tắt của gì" about a glossary term: the term's own entry
DEFINITION_POINTS = 4.0
DEFINITION_CUES = re.compile(r"(?:^| )(?:la gi|nghia la gi|nghia la|viet tat|doc la|doc ra|hieu la|ten day du)(?: |$)")
CLAUSE_MARK = "§"
CLAUSE_CANDIDATES = 5      # entries citing an asked clause added to the candidates, at most
CLAUSE_POINTS = 6.0        # ranking only: an entry whose sources cite the clause the question names
TAG_BOOST = 2.0            # glossary terms (#kph, #dgnb) name the topic: they outweigh generic words
COMPOUND_MARK = "+"        # "nang luc+": a syllable that folds like a function word but belongs to a compound
SPLIT_CREDIT = 0.25        # a syllable of a two-syllable word of the question found outside that word
WORD_MIN, WORD_SHARE = 3, 0.1   # a pair of syllables is a word when it occurs this often and makes up
                                # this share of the rarer syllable's occurrences ("van phong", not "xa ap")
COMPOUND_MIN = 3           # …seen spelt that way in the knowledge base at least this many times
FACET_POINTS = 4.0         # ranking only: the entry answers the kind of question asked (frequency, who…)
OVERVIEW_PENALTY = 4.0     # ranking only: a broad entry, when the question asks one precise thing


@dataclass
class Hit:
    """One candidate entry with its calibrated score (0–100) and the key it is ranked by."""

    entry: Entry
    score: float
    rank_key: float = 0.0


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
        alternation = "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
        self._rx = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)") if pairs else None
        texts = [t for e in kb.entries.values() for t in (e.title, *e.questions, e.answer)]
        self.compounds = compound_pairs(texts, COMPOUND_MIN)
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
        """Folded and rewritten words (no repair), then one token per clause number as typed:
        "khoản 7.5.1" → "khoan 7 5 1 §7.5.1", so 5.1 no longer matches 7.5.1 by its digits alone."""
        return self.normalize(fold(text)).split() + [CLAUSE_MARK + c for c in CLAUSE.findall(text)]

    def normalize(self, folded: str) -> str:
        """'1 lần' → 'một lần', then glossary rewriting, then compounds protected, on folded text."""
        return self.protect(self.rewrite(_ONE.sub(r"mot \1", COURTESY.sub(" ", folded))))

    def protect(self, text: str) -> str:
        """Mark a syllable that folds like a function word but forms a compound with its neighbour, so
        it is not dropped as one: "nang luc" → "nang luc+", "dang ky" → "dang+ ky"."""
        words = text.split()
        if not self.compounds or not any(w in STOPWORDS for w in words):
            return text
        out = list(words)
        for i, (a, b) in enumerate(zip(words, words[1:], strict=False)):
            if (a, b, True) in self.compounds:
                out[i + 1] = b + COMPOUND_MARK
            if (a, b, False) in self.compounds:
                out[i] = a + COMPOUND_MARK
        return " ".join(out)

    def set_vocab(self, vocab: set[str]) -> None:
        self.vocab = vocab
        self._vocab_list = sorted(w for w in vocab if len(w) >= 3)
        self._repair_cache.clear()

    def repair(self, word: str) -> tuple[list[str], bool]:
        """Map an unknown word to known ones: Telex residue, glued words, one or two typos."""
        if word in self.vocab or word in STOPWORDS or word.isdigit() or len(word) < 3 or word.startswith(("#", CLAUSE_MARK)):
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
            out = self.normalize(" ".join(w for w in out if not w.startswith("#"))).split()
        return out, repaired


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


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def _terms(words: list[str]) -> list[str]:
    """Unigrams plus bigrams of content words (a Vietnamese compound is two syllables)."""
    content = _content(words)
    return content + bigrams([w for w in content if not w.startswith(CLAUSE_MARK)])


class TermIndex:
    """BM25 postings in compressed-row form: for each term, the documents that contain it and the
    term's precomputed BM25 weight in each. Scoring a question is a few vectorised numpy additions,
    so latency stays flat as the knowledge base grows."""

    def __init__(self, docs: list[list[str]], term_ids: dict[str, int], k1: float = 1.2, b: float = 0.4):
        n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        t_col, d_col, tf_col = array("i"), array("i"), array("f")
        for i, doc in enumerate(docs):
            for term, count in Counter(doc).items():
                t_col.append(term_ids.setdefault(term, len(term_ids)))
                d_col.append(i)
                tf_col.append(count)
        terms = np.frombuffer(t_col, dtype=np.int32)
        order = np.argsort(terms, kind="stable")
        self.docs = np.frombuffer(d_col, dtype=np.int32)[order]
        tf = np.frombuffer(tf_col, dtype=np.float32)[order]
        counts = np.bincount(terms, minlength=len(term_ids)) if len(terms) else np.zeros(len(term_ids), np.int64)
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        df = counts.astype(np.float64)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        per_posting_idf = np.repeat(idf, counts).astype(np.float32)
        norm = k1 * (1 - b + b * lengths[self.docs] / avgdl)
        self.weights = per_posting_idf * tf * (k1 + 1) / (tf + norm)
        self.n = n

    def gather(self, term_ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The postings of several terms at once: document, position of the term in ``term_ids``,
        and BM25 weight, so one question costs a handful of numpy calls whatever its length."""
        spans = [(j, self.offsets[t], self.offsets[t + 1]) for j, t in enumerate(term_ids)
                 if t < len(self.offsets) - 1]
        if not spans:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=np.float32)
        docs = np.concatenate([self.docs[a:b] for _, a, b in spans])
        labels = np.repeat(np.array([j for j, _, _ in spans], dtype=np.int64), [b - a for _, a, b in spans])
        weights = np.concatenate([self.weights[a:b] for _, a, b in spans])
        return docs, labels, weights


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
        q_docs, a_docs = [], []
        self.phrasings: list[str] = []              # content-word string of every phrasing
        self.phrasing_terms: list[frozenset[str]] = []
        self._phr_by_entry: list[range] = []
        for e in self.entries:
            first = len(self.phrasings)
            q_words: list[str] = []
            for text in (e.title, *e.questions):
                words = self.norm.words(text)
                q_words += words
                # clause tokens count in coverage and BM25 only: a phrasing that names a clause is not
                # a worse match for a question that does not
                plain = [w for w in words if not w.startswith(CLAUSE_MARK)]
                self.phrasings.append(" ".join(_content(plain)))
                self.phrasing_terms.append(frozenset(_terms(plain)))
            self._phr_by_entry.append(range(first, len(self.phrasings)))
            for text in e.keywords:  # keywords widen the vocabulary but are not phrasings
                q_words += self.norm.words(text)
            q_docs.append(_terms(q_words))
            a_docs.append(_terms(self.norm.words(e.answer)))
        # the clauses each entry's sources cite ("khoản 8.5.1" → 8.5.1), and clause → those entries
        self.clauses_of = [frozenset(c for s in e.sources for c in CLAUSE.findall(s.ref)) for e in self.entries]
        citing: dict[str, list[int]] = {}
        for i, clauses in enumerate(self.clauses_of):
            for clause in clauses:
                citing.setdefault(clause, []).append(i)
        self.citing = {c: np.array(ids, dtype=np.int64) for c, ids in citing.items()}
        # numbers that name a source document ("3003" of Công văn 3003/BKHCN-TĐC): a domain term;
        # years and one- or two-digit numbers are everyday numbers
        self.document_numbers = {n for d in kb.documents.values() for n in re.findall(r"\d+", d.cite)
                                 if len(n) >= 3 and not 1900 <= int(n) <= 2100}
        # two-syllable words of the knowledge base: "van phong" and "van ban" share a syllable, not a meaning
        count = Counter(t for doc in q_docs + a_docs for t in doc)
        self.words2 = {t for t, c in count.items() if c >= WORD_MIN and "_" in t and "#" not in t
                       and c >= WORD_SHARE * min(count[p] for p in t.split("_"))}
        self.term_ids: dict[str, int] = {}
        self.q_index = TermIndex(q_docs, self.term_ids, b=Q_FIELD_B)
        self.a_index = TermIndex(a_docs, self.term_ids)
        n = len(self.entries)
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        # document frequency over question and answer fields together (a term counts once per entry)
        pairs = np.concatenate([
            np.repeat(np.arange(len(ix.offsets) - 1, dtype=np.int64), np.diff(ix.offsets)) * n + ix.docs
            for ix in (self.q_index, self.a_index)
        ])
        df = np.bincount(np.unique(pairs) // max(n, 1), minlength=len(self.term_ids)).astype(np.float64)
        self.idf_by_id = np.log(1 + (n - df + 0.5) / (df + 0.5))
        self.norm.set_vocab({t for t in self.term_ids if "_" not in t})
        self.phrasing_total = [sum(self._idf(t) for t in terms) for terms in self.phrasing_terms]
        # what each entry answers: the facets it declares and those its title (a question) names
        self.entry_facets = [frozenset(e.facets) | facets_of(kb, fold(e.title)) for e in self.entries]

    # ------------------------------------------------------------------ scoring

    def _idf(self, term: str) -> float:
        tid = self.term_ids.get(term)
        idf = self.max_idf if tid is None else float(self.idf_by_id[tid])
        return idf * TAG_BOOST if term.startswith("#") else idf

    def _credit(self, terms: list[str], candidates: np.ndarray, q_post, a_post) -> np.ndarray:
        """terms × candidates: 1 when the term is in the candidate's phrasings, ANSWER_FIELD_CREDIT
        when only in its answer, else 0; from the postings already gathered for BM25."""
        column = np.full(len(self.entries), -1, dtype=np.int64)
        column[candidates] = np.arange(len(candidates))
        found = []
        for docs, labels, _ in (q_post, a_post):
            col = column[docs]
            hit = col >= 0
            inside = np.zeros((len(terms), len(candidates)), dtype=bool)
            inside[labels[hit], col[hit]] = True
            found.append(inside)
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

    def _facet_points(self, i: int, asked: frozenset[str], clause: bool) -> float:
        """Ranking points of entry ``i`` for the kind of question: it answers that kind, or it is a broad
        entry and the question asks one precise thing (a facet, or a clause by number)."""
        facets = self.entry_facets[i]
        points = FACET_POINTS if asked & facets else 0.0
        if "overview" in facets and (asked or clause):
            points -= OVERVIEW_PENALTY
        return points

    def _citing_best(self, asked: list[str], bm: np.ndarray) -> np.ndarray:
        """Up to CLAUSE_CANDIDATES entries citing an asked clause exactly, best BM25 first: they join
        the candidates even when the question's words did not bring them in."""
        found = [self.citing[a] for a in asked if a in self.citing]
        if not found:
            return np.zeros(0, dtype=np.int64)
        ids = np.unique(np.concatenate(found))
        return ids[np.argsort(-bm[ids], kind="stable")[:CLAUSE_CANDIDATES]]

    def rank(self, question: str, limit: int = 5) -> tuple[str, list[Hit]]:
        """Normalized question and the best ``limit`` entries with calibrated scores."""
        normalized, hits, _ = self._rank(question, limit)
        return normalized, hits

    def _rank(self, question: str, limit: int) -> tuple[str, list[Hit], set[str]]:
        words, repaired = self.norm.query_words(question[:MAX_QUERY_CHARS])
        normalized = " ".join(words)
        content = list(dict.fromkeys(_content(words)))
        if not content:
            return normalized, [], repaired
        n = len(self.entries)
        all_terms = list(dict.fromkeys(_terms(words)))
        terms = [t for t in all_terms if t in self.term_ids]   # known terms only
        q_post = self.q_index.gather([self.term_ids[t] for t in terms])
        a_post = self.a_index.gather([self.term_ids[t] for t in terms])
        bm_q = np.bincount(q_post[0], weights=q_post[2], minlength=n).astype(np.float32)
        bm_a = np.bincount(a_post[0], weights=a_post[2], minlength=n).astype(np.float32)
        bm = bm_q + np.float32(ANSWER_BM25) * bm_a
        hit_count = int(np.count_nonzero(bm))
        if not hit_count:
            return normalized, [], repaired
        k = min(CANDIDATES, hit_count)
        top = np.argpartition(-bm, k - 1)[:k]
        candidates = np.sort(top[np.lexsort((top, -bm[top]))][:k])
        asked = CLAUSE.findall(question[:MAX_QUERY_CHARS])
        q_facets = facets_of(self.kb, fold(question[:MAX_QUERY_CHARS])) - {"overview"}
        if asked:
            candidates = np.union1d(candidates, self._citing_best(asked, bm).astype(candidates.dtype))
        uni_w = {t: self._idf(t) * (REPAIRED_CREDIT if t in repaired else 1.0) for t in content}
        bi_w = {t: self._idf(t) for t in all_terms if "_" in t}
        credit = self._split_words(terms, self._credit(terms, candidates, q_post, a_post))
        cov = _coverage(uni_w, terms, credit)
        if bi_w:
            cov = (1 - BIGRAM_SHARE) * cov + BIGRAM_SHARE * _coverage(bi_w, terms, credit)
        plain = [t for t in content if not t.startswith(CLAUSE_MARK)]   # clause tokens: coverage only
        q_terms = {**{t: uni_w[t] for t in plain}, **bi_w}
        q_total = sum(q_terms.values())
        q_keys = q_terms.keys()
        folded_q = " ".join(words)
        definition = any(t.startswith("#") for t in content) and bool(DEFINITION_CUES.search(folded_q))
        query_str = " ".join(plain)
        top_bm = float(bm[candidates].max()) or 1.0
        top_q = float(bm_q[candidates].max()) or 1.0
        whole = bm_q + bm_a
        top_whole = float(whole[candidates].max()) or 1.0
        cand = candidates.tolist()
        phr_ids = [p for i in cand for p in self._phr_by_entry[i]]
        choices = [self.phrasings[p] for p in phr_ids]
        fuzzy = (0.3 * process.cdist([query_str], choices, scorer=fuzz.token_set_ratio)[0]
                 + 0.7 * process.cdist([query_str], choices, scorer=fuzz.token_sort_ratio)[0])
        fz_of = dict(zip(phr_ids, fuzzy.tolist(), strict=False))
        hits = []
        for c, i in enumerate(cand):
            f1 = fz = 0.0
            for p in self._phr_by_entry[i]:
                common = q_keys & self.phrasing_terms[p]
                overlap = sum(q_terms[t] for t in common) if common else 0.0
                if overlap:
                    recall, precision = overlap / q_total, overlap / self.phrasing_total[p]
                    f1 = max(f1, (1 + F_BETA2) * recall * precision / (F_BETA2 * precision + recall))
                fz = max(fz, fz_of[p])
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
            hits.append(Hit(self.entries[i], round(min(float(score), 100.0), 1), key))
        hits.sort(key=lambda h: (-h.rank_key, h.entry.id))
        return normalized, hits[:limit], repaired

    def search(self, question: str) -> SearchResult:
        """Rank, then gate: answer (score ≥ answer threshold), suggest, or decline.

        When an out-of-scope example is the closest match the question is declined whatever its score;
        when one comes within ``out_of_scope_margin`` of the best entry, the bot only suggests.
        """
        normalized, ranked, repaired = self._rank(question, 6)
        content = _content(normalized.split())
        if ranked and len(content) <= 2 and all(w in repaired for w in content):
            # every informative word had to be guessed ("xin chao" → "cao"): too little to answer on
            return SearchResult(question, normalized, "decline", ranked[0], [])
        if not ranked:
            outcome = "empty" if not _content(normalized.split()) else "decline"
            return SearchResult(question, normalized, outcome)
        hits = [h for h in ranked if not h.entry.id.startswith(OOS_PREFIX)][:4]
        if ranked[0].entry.id.startswith(OOS_PREFIX) or not hits:
            return SearchResult(question, normalized, "decline", hits[0] if hits else None, [])
        cfg = self.config
        best, rest = hits[0], hits[1:]
        plain = [w for w in content if not w.startswith("#") and w not in self.norm.generic_words]
        domain_term = (any(w.startswith("#") and w not in self.norm.generic_tags for w in content)
                       or bool(DOMAIN_MARKERS.search(normalized)) or any(w in self.document_numbers for w in content))
        if len(set(plain)) <= SHORT_QUERY_WORDS and not domain_term:
            # a few everyday words and no domain term ("hom nay thu may" folds like "hòm thư"): be stricter
            threshold = cfg.answer_threshold + SHORT_QUERY_EXTRA
        else:
            threshold = cfg.answer_threshold
        # nearly as close to an off-topic example as to the best entry: not sure enough to answer
        off_topic = [h.score for h in ranked if h.entry.id.startswith(OOS_PREFIX)]
        near_off_topic = bool(off_topic) and best.score - max(off_topic) < cfg.out_of_scope_margin
        if best.score >= threshold and not near_off_topic:
            close = [h for h in rest if best.score - h.score < cfg.margin and h.score >= cfg.suggest_threshold]
            return SearchResult(question, normalized, "answer", best, close[:3])
        if best.score >= cfg.suggest_threshold:
            alts = [h for h in hits if h.score >= cfg.suggest_threshold]
            return SearchResult(question, normalized, "suggest", best, alts[:3])
        return SearchResult(question, normalized, "decline", best, [])
