"""How well the search answers labelled question sets (tests/data/eval_domain_*.yaml).

Each question has ``expect``: the entries that answer the facet asked (best first; empty when nothing
in the knowledge base answers it, or for off-topic questions). The figures the targets of issue 12
are stated in:

- **top-1**: the bot answers, with an expected entry (of the in-scope questions that have one);
- **top-3**: an expected entry is among those the user is shown (:func:`shown`): the answer or one of
  its first two "Ý anh/chị là…?" offers, or one of the three buttons of a suggestion;
- **confident wrong**: the bot answers, but not with an expected entry — an off-topic question
  answered, a question nothing answers given an unrelated answer, or the wrong entry (of all items);
- **off-topic declined**: off-topic questions not answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.answers import MAX_ALTERNATIVES


@dataclass
class Report:
    name: str
    labelled: int = 0  # in-scope questions with an expected entry
    unanswerable: int = 0  # in-scope questions nothing answers yet
    off_topic: int = 0
    top1: int = 0
    top3: int = 0
    wrong: int = 0  # confident wrong, all kinds
    declined_off: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.labelled + self.unanswerable + self.off_topic

    def pct(self, n: int, of: int) -> float:
        return 100.0 * n / of if of else 0.0

    def line(self) -> str:
        return (
            f"{self.name}: top-1 {self.pct(self.top1, self.labelled):.1f}%"
            f" · top-3 {self.pct(self.top3, self.labelled):.1f}%"
            f" of {self.labelled} · confident wrong {self.pct(self.wrong, self.total):.1f}% of {self.total}"
            f" · off-topic declined {self.pct(self.declined_off, self.off_topic):.1f}% of {self.off_topic}"
        )


def load(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]


def shown(res) -> list[str]:
    """The entries the user is shown, as bot.answers renders them: an answer and its first
    ``MAX_ALTERNATIVES`` "Ý anh/chị là…?" offers; a suggestion's buttons (its alternatives, the best
    first); nothing when declined."""
    if res.outcome == "answer":
        return [res.best.entry.id] + [h.entry.id for h in res.alternatives[:MAX_ALTERNATIVES]]
    if res.outcome == "suggest":
        return [h.entry.id for h in res.alternatives]
    return []


def evaluate(searcher, rows: list[dict], name: str = "") -> Report:
    """Run every question through ``searcher.search`` and count as the module doc says."""
    rep = Report(name)
    for r in rows:
        res = searcher.search(r["q"])
        expect = set(r.get("expect") or [])
        answered = res.best.entry.id if res.matched else None
        offered = shown(res)
        if r.get("off_topic"):
            rep.off_topic += 1
            if answered is None:
                rep.declined_off += 1
            else:
                rep.wrong += 1
                rep.misses.append(f"OFF answered {answered}: {r['q']}")
            continue
        if not expect:
            rep.unanswerable += 1
            if answered is not None:
                rep.wrong += 1
                rep.misses.append(f"NONE answered {answered}: {r['q']}")
            continue
        rep.labelled += 1
        if answered in expect:
            rep.top1 += 1
        elif answered is not None:
            rep.wrong += 1
            rep.misses.append(f"WRONG {answered} (want {'/'.join(r['expect'])}): {r['q']}")
        else:
            rep.misses.append(
                f"{res.outcome.upper()} {'/'.join(offered) or (res.best.entry.id if res.best else '-')}"
                f" (want {'/'.join(r['expect'])}): {r['q']}"
            )
        if expect & set(offered):
            rep.top3 += 1
    return rep
