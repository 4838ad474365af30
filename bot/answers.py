"""Questions and answers: the search, the sourced answer with its follow-ups, "Ý anh/chị là…?", 👍/👎."""

from __future__ import annotations

from bot import nav
from bot.actions import Action, Choice, Feature, Id, Slug
from bot.atlas import atlas_button
from bot.guides import guides_for_entry
from bot.home import home_row
from bot.knowledge import STANDARD_ID, Entry
from bot.reply import Reply, User, short
from bot.search import MAX_QUERY_CHARS, SearchResult
from bot.topics import group_rows

MAX_RELATED = 3
MAX_ALTERNATIVES = 2
HUGE_MESSAGE_CHARS = 1000  # beyond this we warn that only the start was read

FEEDBACK = Action("f", Id("shown"), Choice("vote", "u", "d"), name="answer.feedback")
MORE = Action("em", Slug("entry"), needs_db=False, name="answer.more")
FIRST_SCREEN_CHARS = 420  # the start of an answer shown at once (a small phone's screen, with title and sources)
SLACK_CHARS = 120  # an answer at most this much longer is shown whole: "xem thêm" for 2 lines is noise
MIN_HEAD_CHARS = 180


def split_answer(text: str, limit: int = FIRST_SCREEN_CHARS) -> tuple[str, str]:
    """(what the first screen shows, the rest): cut at a paragraph, else a list item, else a sentence,
    else a word, never mid-word; ("whole text", "") when it fits."""
    if len(text) <= limit + SLACK_CHARS:
        return text, ""
    window = text[:limit]
    for sep in ("\n\n", "\n", ". ", "; ", " "):
        cut = window.rfind(sep)
        if cut >= MIN_HEAD_CHARS:
            end = cut + (1 if sep in (". ", "; ") else 0)
            return text[:end].rstrip(), text[end:].strip()
    return window.rstrip(), text[limit:].strip()


class Answers(Feature):
    """Free-text questions and the entries they lead to."""

    def ask(self, user: User, text: str, channel: str = "telegram") -> tuple[Reply, SearchResult | None]:
        """The answer, "Ý anh/chị là…?" suggestions or a polite decline, and the search result."""
        text = (text or "").strip()
        if not text:
            return Reply().add(self.text("empty_question")), None
        result = self.ctx.searcher.search(text[:MAX_QUERY_CHARS])
        asked_id = self._log(user, channel, text, result)
        if result.outcome == "answer" and result.best is not None:
            reply = self.render(user, result.best.entry, asked_id=asked_id, alternatives=result.alternatives)
        elif result.outcome == "suggest":
            reply = self.suggest(result)
        elif result.outcome == "empty":
            reply = Reply().add(self.text("empty_question"))
        else:
            reply = Reply(buttons=group_rows(self.kb)).add(self.text("not_found"))
        if len(text) > HUGE_MESSAGE_CHARS:
            reply.prepend(self.text("too_long", limit=MAX_QUERY_CHARS))
        return reply, result

    def _log(self, user: User, channel: str, text: str, result: SearchResult) -> int | None:
        if not self.ctx.storage:
            return None
        best = result.best
        return self.storage.log_question(
            user.id,
            channel,
            result.folded,
            result.outcome,
            best.entry.id if best else None,
            best.score if best else None,
        )

    def suggest(self, result: SearchResult) -> Reply:
        rows = [[nav.ENTRY.button(short(h.entry.title), h.entry.id)] for h in result.alternatives]
        rows.append([nav.TOPICS.button(self.text("btn_topics"))])
        return Reply(buttons=rows).add(self.text("did_you_mean"))

    def render(
        self,
        user: User,
        entry: Entry,
        *,
        asked_id: int | None = None,
        alternatives: list | None = None,
        via: str = "question",
    ) -> Reply:
        """An answer's first screen: its start (short enough for a small phone without scrolling), its
        sources, «📖 Xem thêm» when there is more, its guide and form, the alternatives and 👍/👎. A short
        answer also shows its related questions and clause at once; a long one under «Xem thêm»."""
        shown_id = self.storage.log_shown(user.id, entry.id, asked_id, via) if self.ctx.storage else 0
        head, rest = split_answer(entry.answer.strip())
        reply = Reply()
        reply.add(entry.title, "b").add("\n\n").add(head + (" …" if rest else ""))
        reply.add("\n\n").add(f"{self.text('sources_label')}: {'; '.join(str(s) for s in entry.sources)}", "i")
        alternatives = (alternatives or [])[:MAX_ALTERNATIVES]
        if rest:  # the guide and the form stay at hand; related questions and the clause follow the rest
            rows = [[MORE.button(self.text("btn_answer_more"), entry.id)], *self.link_rows(entry, related=False)]
        else:
            rows = self.link_rows(entry, shown={h.entry.id for h in alternatives})
        if alternatives:
            reply.add("\n\n").add(self.text("maybe_label"))
            offered = [[nav.ENTRY.button("❔ " + short(h.entry.title), h.entry.id)] for h in alternatives]
            rows = rows[:1] + offered + rows[1:] if rest else offered + rows  # after «Xem thêm», if any
        if shown_id:
            rows.insert(
                len(rows) - 1,
                [
                    FEEDBACK.button(self.text("btn_up"), shown_id, "u"),
                    FEEDBACK.button(self.text("btn_down"), shown_id, "d"),
                ],
            )
        reply.buttons = rows
        return reply

    @MORE
    def more(self, user: User, entry_id: str) -> Reply | None:
        """The rest of a long answer, with the related questions, guide, form and clause."""
        entry = self.kb.entries.get(entry_id)
        if entry is None:
            return None
        _, rest = split_answer(entry.answer.strip())
        reply = Reply().add(self.text("more_title", title=short(entry.title, 80)) + "\n\n", "b")
        reply.add(rest or entry.answer.strip())
        reply.add("\n\n").add(f"{self.text('sources_label')}: {'; '.join(str(s) for s in entry.sources)}", "i")
        reply.buttons = self.link_rows(entry)
        return reply

    def link_rows(self, entry: Entry, shown: set[str] | frozenset[str] = frozenset(), related: bool = True) -> list:
        """Related questions (less those ``shown`` as alternatives already), the guide that covers the
        entry, the form it offers as a .docx, its clause, then Topics / Menu (no feedback row); without
        ``related``, only the guide, the form and Topics / Menu."""
        kb = self.kb
        rows = [
            [nav.ENTRY.button("🔗 " + short(kb.entries[r].title), r)]
            for r in entry.related[:MAX_RELATED]
            if r in kb.entries and r not in shown and related
        ]
        for g in guides_for_entry(kb, entry.id)[:1]:
            step = next((i for i, s in enumerate(g.steps) if entry.id in s.entries), 0)
            rows.append([nav.GUIDE_STEP.button(short(self.text("guide_button", title=g.title), 60), g.id, step)])
        rows += [
            [nav.FORM.button(short(self.text("form_button", name=f.name), 60), f.id)]
            for f in kb.forms.values()
            if entry.id in f.entries
        ][:1]
        clause = atlas_button(kb, entry.clause or _cited_clause(entry)) if related else None
        if clause is not None:
            rows.append([clause])
        rows.append([nav.TOPICS.button(self.text("btn_topics")), *home_row(self.ctx)])
        return rows

    @nav.ENTRY
    def entry(self, user: User, entry_id: str) -> Reply | None:
        entry = self.kb.entries.get(entry_id)
        return self.render(user, entry, via="button") if entry else None

    @FEEDBACK
    def feedback(self, user: User, shown_id: int, vote: str) -> Reply | None:
        shown = self.storage.get_shown(shown_id)
        if not shown or shown["user_id"] != user.id:
            return None
        entry = self.kb.entries.get(shown["entry_id"])
        if not entry:
            return None
        if not self.storage.add_feedback(user.id, shown["id"], entry.id, 1 if vote == "u" else -1):
            return Reply(mode="markup", toast=self.text("feedback_already"), buttons=self.link_rows(entry))
        toast = self.text("feedback_thanks_up" if vote == "u" else "feedback_thanks_down")
        return Reply(mode="markup", toast=toast, buttons=self.link_rows(entry))

    def as_json(self, question: str) -> dict:
        """The stable JSON shape of ``isobot ask --json`` for a real question."""
        result = self.ctx.searcher.search((question or "")[:MAX_QUERY_CHARS])
        hit = result.best if result.matched else None  # the entry the answer is, if any
        if hit is not None:
            answer = hit.entry.answer.strip()
        elif result.outcome == "suggest":
            answer = self.text("did_you_mean")
        elif result.outcome == "empty":
            answer = self.text("empty_question")
        else:
            answer = self.text("not_found")
        return {
            "matched": result.matched,
            "entry_id": hit.entry.id if hit else None,
            "title": hit.entry.title if hit else None,
            "answer": answer,
            "score": result.best.score if result.best else 0.0,
            "sources": [str(s) for s in hit.entry.sources] if hit else [],
            "suggestions": [
                {"entry_id": h.entry.id, "title": h.entry.title, "score": h.score} for h in result.alternatives
            ],
        }


def _cited_clause(entry: Entry) -> str:
    """The clause of TCVN ISO 9001:2015 an entry's first citation of the standard names ("khoản 9.2")."""
    for s in entry.sources:
        if s.doc.id == STANDARD_ID and s.ref.startswith("khoản "):
            return s.ref.split()[1].rstrip(".,;")
    return ""
