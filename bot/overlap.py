"""Which entries the search confuses: leave-one-phrasing-out over the knowledge base itself.

Each entry's k-th phrasing is taken out, the index is rebuilt without it, and the phrasing is asked as
a question. When another entry ranks first, the two entries overlap: a curator should move the
phrasing to the entry that really owns it, sharpen the answers, or merge the entries.
``isobot kb overlap`` prints the result; it needs no evaluation set, so it never tunes on one.

The rebuilt indexes rank without the phrasing classifier (:mod:`bot.intent`): trained on the whole base
it would have seen the phrasing asked, and training it again for each of the ~60 phrasing positions
took 4–7 s each (7 minutes for the real base). So the report shows where the *words* of two entries
overlap, which is what a curator can fix.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.config import SearchConfig
from bot.knowledge import KnowledgeBase
from bot.search import Searcher


@dataclass
class Confusion:
    """Phrasings of ``owner`` that rank ``winner`` first once taken out of the index."""

    owner: str
    winner: str
    phrasings: list[str] = field(default_factory=list)


@dataclass
class OverlapReport:
    asked: int
    correct: int
    confusions: list[Confusion]

    @property
    def accuracy(self) -> float:
        return 100.0 * self.correct / self.asked if self.asked else 0.0


def folds(kb: KnowledgeBase) -> Iterator[tuple[KnowledgeBase, dict[str, str]]]:
    """For k = 0, 1, …: the knowledge base without every entry's k-th phrasing, and those phrasings."""
    for k in range(max((len(e.questions) for e in kb.entries.values()), default=0)):
        held: dict[str, str] = {}
        entries = {}
        for e in kb.entries.values():
            questions = list(e.questions)
            if len(questions) > k:
                held[e.id] = questions.pop(k)
            entries[e.id] = dataclasses.replace(e, questions=tuple(questions))
        yield dataclasses.replace(kb, entries=entries), held


def overlap(kb: KnowledgeBase, config: SearchConfig | None = None) -> OverlapReport:
    """Leave each phrasing out in turn (one rebuilt index per phrasing position) and rank it."""
    asked = correct = 0
    found: dict[tuple[str, str], Confusion] = {}
    for reduced, held in folds(kb):
        searcher = Searcher(reduced, config, classifier=False)
        for owner, phrasing in held.items():
            _, hits = searcher.rank(phrasing, limit=1)
            winner = hits[0].entry.id if hits else "-"
            asked += 1
            if winner == owner:
                correct += 1
            else:
                found.setdefault((owner, winner), Confusion(owner, winner)).phrasings.append(phrasing)
    pairs = _symmetric_order(found)
    return OverlapReport(asked, correct, pairs)


def _symmetric_order(found: dict[tuple[str, str], Confusion]) -> list[Confusion]:
    """Most confused pairs first (A→B and B→A count together), then each direction by size."""
    pair_total: dict[frozenset[str], int] = defaultdict(int)
    for (a, b), c in found.items():
        pair_total[frozenset((a, b))] += len(c.phrasings)
    return sorted(
        found.values(),
        key=lambda c: (
            -pair_total[frozenset((c.owner, c.winner))],
            sorted((c.owner, c.winner)),
            -len(c.phrasings),
            c.owner,
        ),
    )
