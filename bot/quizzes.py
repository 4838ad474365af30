"""Self-check quizzes (knowledge/quizzes/*.yaml): question bank, sessions, spaced repetition, leaderboards.

Telegram shows each question as a native quiz poll (non-anonymous, so every answer reaches us);
Zalo and the terminal show the same question with options A–D, answered by typing the letter.
Either way the answer goes through :meth:`Quizzes.answer`, which records it once and moves to the
next question; on those channels the reply also says whether the answer was right, and why.

Spaced repetition is a Leitner scheme: a missed question comes back the next day; each right
answer moves it to a longer interval; after enough right answers in a row it is retired.
"""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from bot import nav
from bot.actions import Action, Choice, Feature, Field, Id, Index, Slug, command, prompt
from bot.home import home_row
from bot.knowledge import KnowledgeBase, Question
from bot.notices import signature
from bot.reply import Attachment, Button, Poll, QuizFeedback, Reply, Section, User, short
from bot.text import fold, safe_cell
from bot.topics import group_topics, grouped
from bot.when import WhenError, parse_date, vi_date
from bot.yamlcheck import LINE_KEY, Checker, line_of, load_folder

MAX_QUESTION = 250  # Telegram allows 300 for a poll question; we prefix "Câu 3/10 · "
MAX_OPTION = 100
MAX_EXPLANATION = 200  # Telegram's limit for a quiz explanation
LENGTHS = (5, 10, 20)
INTERVALS = {1: 1, 2: 3, 3: 7, 4: 14, 5: 30}  # Leitner box → days until the next review
RETIRED_BOX = 6  # reached after 5 right answers in a row
MAX_MISSED_SHOWN = 8  # the summary must fit one message
# characters of missed questions and their explanations the summary shows: on Zalo (2,000 characters a
# message) the options must come with it, not on a second page; Telegram allows 4,096
MISSED_CHARS_TEXT = 1_300
MISSED_CHARS = 3_000
CURRENT_WINDOW = timedelta(hours=2)  # an open quiz answered this recently is the one "huỷ" stops


def load_quizzes(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/quizzes/*.yaml into kb.quizzes; check options, answer, lengths and the backing entry."""
    for _, file, raw in load_folder(ck, "quizzes", "quizzes", many=True):
        qid = ck.ident(raw, file, "câu hỏi trắc nghiệm")
        w = f"câu '{qid}': "
        options = ck.strings(raw, "options", file, where=w)
        answer = raw.get("answer")
        line = raw[LINE_KEY]
        if not 3 <= len(options) <= 4:
            ck.add(file, line_of(raw, "options"), f"{w}cần 3–4 phương án")
        if len({o.lower() for o in options}) != len(options):
            ck.add(file, line_of(raw, "options"), f"{w}các phương án phải khác nhau")
        if any(len(o) > MAX_OPTION for o in options):
            ck.add(file, line_of(raw, "options"), f"{w}phương án dài quá {MAX_OPTION} ký tự")
        if not isinstance(answer, int) or not 0 <= answer < len(options):
            ck.add(file, line_of(raw, "answer"), f"{w}'answer' phải là số thứ tự (từ 0) của một phương án")
            answer = 0
        question = ck.string(raw, "question", file, where=w)
        if len(question) > MAX_QUESTION:
            ck.add(file, line_of(raw, "question"), f"{w}câu hỏi dài quá {MAX_QUESTION} ký tự")
        explanation = ck.string(raw, "explanation", file, where=w)
        if len(explanation) > MAX_EXPLANATION:
            ck.add(file, line_of(raw, "explanation"), f"{w}giải thích dài quá {MAX_EXPLANATION} ký tự")
        topic = ck.string(raw, "topic", file, where=w)
        if topic and topic not in kb.topics:
            ck.add(file, line_of(raw, "topic"), f"{w}chủ đề '{topic}' không có trong topics.yaml")
        entry = ck.string(raw, "entry", file, where=w)
        if entry and entry not in kb.entries:
            ck.add(file, line_of(raw, "entry"), f"{w}mục '{entry}' không có trong kho hỏi–đáp")
        difficulty = raw.get("difficulty", 1)
        if difficulty not in (1, 2, 3):
            ck.add(file, line_of(raw, "difficulty"), f"{w}difficulty phải là 1, 2 hoặc 3")
        if qid in kb.quizzes:
            ck.add(file, line, f"câu hỏi trắc nghiệm trùng id '{qid}'")
        kb.quizzes[qid] = Question(qid, topic, question, options, answer, difficulty, explanation, entry)


# ---------------------------------------------------------------------- spaced repetition


def next_review(box: int, correct: bool, today: date) -> tuple[int, date | None]:
    """Leitner step: (new box, due date); a retired question has no due date."""
    if not correct:
        return 1, today + timedelta(days=INTERVALS[1])
    box = min(box + 1, RETIRED_BOX)
    return box, (None if box >= RETIRED_BOX else today + timedelta(days=INTERVALS[box]))


def pick_questions(
    kb: KnowledgeBase, topic: str | None, length: int, due: list[str], seen: set[str], rnd: random.Random
) -> list[str]:
    """Due reviews first (at most half the quiz), then questions never seen, then the rest."""
    pool = [q.id for q in kb.quizzes.values() if topic in (None, "", "mix") or q.topic == topic]
    pool_set = set(pool)
    reviews = [q for q in due if q in pool_set][: max(1, length // 2)]
    fresh = [q for q in pool if q not in seen and q not in reviews]
    rest = [q for q in pool if q in seen and q not in reviews]
    rnd.shuffle(fresh)
    rnd.shuffle(rest)
    chosen = (reviews + fresh + rest)[:length]
    rnd.shuffle(chosen)
    return chosen


# ---------------------------------------------------------------------- screens


class QuizPrompt(StrEnum):
    ENDED = "quiz_ended"  # a quiz just ended {"session"}: a letter typed now is a late answer, no question


LETTERS = "ABCD"
TOPIC = Action("qt", Slug("topic"), name="quiz.topic")
GROUP = Action("qg", Slug("group"), name="quiz.group")
START = Action("ql", Slug("topic"), Choice("length", *(str(n) for n in LENGTHS)), name="quiz.start")
ANSWER = Action("qa", Id("session"), Index("question"), Index("option"), name="quiz.answer")
DAILY = Action("qd", Field("time", r"off|(?:[01][0-9]|2[0-3])[0-5][0-9]"), name="quiz.daily")
DAILY_TIMES = ("07:00", "11:30", "16:30", "20:00")


class Quizzes(Feature):
    """/quiz, /bangxephang, /hangngay: self-check quizzes with spaced repetition and leaderboards."""

    def __init__(self, ctx, rnd: random.Random | None = None):
        super().__init__(ctx)
        self.rnd = rnd or random.Random()

    @command("quiz", needs_db=True, shortcut="quiz")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        """/quiz: mixed, or a group of topics (topics.yaml's groups: 15 topics are too many options for a
        phone), then the topic."""
        counts = self._counts()
        due = len(self.storage.due_reviews(user.id, self.ctx.today().isoformat()))
        rows = [[TOPIC.button(self.text("quiz_mixed", due=due) if due else self.text("quiz_mixed_plain"), "mix")]]
        for group, tids in grouped(self.kb, counts):
            n = sum(counts[t] for t in tids)
            rows.append([GROUP.button(short(self.text("quiz_group", group=group.title, n=n), 60), group.id)])
        rows.append([nav.LEADERBOARD.button(self.text("btn_leaderboard")), *home_row(self.ctx)])
        return Reply(buttons=rows, mode=mode).add(self.text("quiz_intro"))

    def _counts(self) -> dict[str, int]:
        """Questions per topic, for the topics that have any."""
        return Counter(q.topic for q in self.kb.quizzes.values())

    @GROUP
    def group(self, user: User, group_id: str) -> Reply | None:
        """One group's topics that have questions."""
        counts = self._counts()
        tids = group_topics(self.kb, counts, group_id)
        if not tids:
            return None
        rows = [[TOPIC.button(short(f"{self.kb.topics[t].title} ({counts[t]})", 60), t)] for t in tids]
        rows.append([nav.QUIZ.button(self.text("btn_back")), *home_row(self.ctx)])
        title = self.kb.groups[group_id].title
        return Reply(buttons=rows, mode="edit").add(self.text("group_intro", group=title))

    @nav.QUIZ
    def pressed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    @TOPIC
    def choose_length(self, user: User, topic: str) -> Reply | None:
        if topic != "mix" and topic not in self.kb.topics:
            return None
        row = [START.button(self.text("quiz_len", n=n), topic, str(n)) for n in LENGTHS]
        return Reply(buttons=[row, [nav.QUIZ.button(self.text("btn_back"))]], mode="edit").add(
            self.text("quiz_len_prompt")
        )

    @START
    def start_pressed(self, user: User, topic: str, length: str) -> Reply | None:
        return self.start(user, topic, int(length))

    def start(
        self, user: User, topic: str, length: int, assignment_id: int | None = None, single: bool = False
    ) -> Reply | None:
        """A new session of ``length`` questions (or one question for the daily job)."""
        if (topic != "mix" and topic not in self.kb.topics) or length not in LENGTHS:
            return None
        today = self.ctx.today().isoformat()
        ids = pick_questions(
            self.kb,
            None if topic == "mix" else topic,
            1 if single else length,
            self.storage.due_reviews(user.id, today),
            self.storage.seen_questions(user.id),
            self.rnd,
        )
        if not ids:
            return None
        pending = self.storage.get_prompt(user.id)
        if pending and pending[0] == QuizPrompt.ENDED:  # a new quiz: its letters are answers again
            self.storage.clear_prompt(user.id)
        unit = self.storage.unit_of(user.id)
        session = self.storage.start_quiz(user.id, unit["id"] if unit else None, topic, ids, assignment_id)
        reply = Reply(mode="send" if single else "edit")
        if not single:
            reply.add(self.say(user, "quiz_started", n=len(ids)))
        reply.poll = self.poll(session, 0)
        return reply

    def poll(self, session: dict, index: int) -> Poll:
        q = self.kb.quizzes[session["questions"][index]]
        header = self.text("quiz_header", n=index + 1, total=len(session["questions"]), score=session["correct"])
        return Poll(session["id"], index, f"{header} {q.question}", q.options, q.answer, q.explanation)

    @ANSWER
    def answer(self, user: User, session_id: int, index: int, option: int) -> Reply | None:
        """Record one answer (once); reply with the next question or the summary."""
        session = self.storage.get_quiz(session_id)
        if not session or session["user_id"] != user.id or session["status"] != "open":
            return None
        if index != session["position"] or index >= len(session["questions"]):
            return Reply(toast=self.text("quiz_already"))  # a repeated or stale answer changes nothing
        q = self.kb.quizzes.get(session["questions"][index])
        if q is None or not 0 <= option < len(q.options):
            return None
        correct = option == q.answer
        if not self.storage.record_quiz_answer(session_id, index, q.id, option, correct):
            return Reply(toast=self.text("quiz_already"))
        new_box, due = next_review(self.storage.srs_box(user.id, q.id), correct, self.ctx.today())
        self.storage.save_srs(user.id, q.id, new_box, due.isoformat() if due else None)
        session = self.storage.get_quiz(session_id)
        if session is None:
            return None
        feedback = QuizFeedback(correct, q.options[q.answer], LETTERS[q.answer], q.explanation)
        if session["position"] >= len(session["questions"]):
            reply = self.summary(user, session)
        else:
            reply = Reply()
            reply.poll = self.poll(session, session["position"])
        reply.answered = feedback
        return reply

    def poll_answer(self, user: User, poll_id: str, option_ids: list[int]) -> Reply | None:
        """A vote on a Telegram quiz poll; None for polls we do not know (nothing to say)."""
        target = self.storage.poll_target(poll_id)
        if target is None or not option_ids:
            return None
        return self.answer(user, target["session_id"], target["idx"], option_ids[0])

    def _ended(self, user: User, session_id: int) -> None:
        """A quiz ended: for CURRENT_WINDOW (or until another command or question), a letter typed is
        a late answer."""
        self.wait_passively(user, QuizPrompt.ENDED, {"session": session_id})

    @prompt(QuizPrompt.ENDED, passive=True)
    def late_answer(self, user: User, data: dict, text: str) -> Reply | None:
        """ "b" or "C" typed just after a quiz ended: the quiz is over, with what to do next. Anything else
        (or a quiz open again) returns None: the wait ends and the text is read as usual."""
        q = re.match(self.text("quiz_patterns_option"), fold(text))
        if q is None or not q.group(3).isalpha() or self.storage.open_quiz(user.id):
            return None
        sid = data.get("session")
        session = self.storage.get_quiz(sid) if isinstance(sid, int) else None
        since = (datetime.now(UTC) - CURRENT_WINDOW).isoformat(timespec="seconds")
        if session is None or session["user_id"] != user.id or (session["finished"] or "") < since:
            return None
        text = self.text(
            "quiz_ended_late", letter=q.group(3).upper(), correct=session["correct"], done=session["position"]
        )
        rows = [[nav.QUIZ.button(self.text("quiz_again")), nav.LEADERBOARD.button(self.text("btn_leaderboard"))]]
        return Reply(buttons=[*rows, home_row(self.ctx)]).add(text)

    def current(self, user: User) -> tuple[dict, str] | None:
        """The open quiz answered (or started) in the last CURRENT_WINDOW, and when that was."""
        session = self.storage.open_quiz(user.id)
        if session is None:
            return None
        touched = self.storage.quiz_touched(session["id"])
        since = (datetime.now(UTC) - CURRENT_WINDOW).isoformat(timespec="seconds")
        return (session, touched) if touched >= since else None

    def stop(self, user: User) -> Reply | None:
        """/huy or "huỷ" during a quiz: close it and say the score so far; None without a current quiz."""
        found = self.current(user)
        if found is None:
            return None
        session = found[0]
        self.storage.stop_quiz(session["id"])
        self._ended(user, session["id"])
        text = self.text(
            "quiz_stopped", correct=session["correct"], done=session["position"], total=len(session["questions"])
        )
        return Reply(buttons=[[nav.QUIZ.button(self.text("quiz_again"))], home_row(self.ctx)]).add(text)

    def intercept(self, user: User, folded: str) -> Reply | None:
        """ "huỷ" during a quiz stops it; "b", "đáp án c" typed during a quiz on Telegram: the answer is a
        tap on the poll."""
        if re.match(self.text("quiz_patterns_stop"), folded):
            return self.stop(user)
        if user.texts_only or not re.match(self.text("quiz_patterns_option"), folded):
            return None
        if not self.storage.open_quiz(user.id):
            return None
        return Reply(buttons=[[nav.QUIZ.button(self.text("btn_quiz"))]]).add(self.text("quiz_use_poll"))

    def summary(self, user: User, session: dict) -> Reply:
        total = len(session["questions"])
        self.storage.finish_quiz(session["id"], round(100 * session["correct"] / total, 1))
        self._ended(user, session["id"])
        r = Reply()
        r.add(
            self.text("quiz_done", correct=session["correct"], total=total, pct=round(100 * session["correct"] / total))
            + "\n",
            "b",
        )
        missed = self.storage.missed_questions(session["id"])
        rows: list[list[Button]] = []
        if missed:
            r.add("\n" + self.text("quiz_missed") + "\n")
            budget = MISSED_CHARS_TEXT if user.texts_only else MISSED_CHARS
            shown = 0
            for qid in missed[:MAX_MISSED_SHOWN]:
                q = self.kb.quizzes[qid]
                head = f"{shown + 1}. {short(q.question, 160)}\n"
                body = f"✔️ {q.options[q.answer]} — {q.explanation}\n"
                if shown and len(head) + len(body) > budget:
                    break  # the rest are counted: the summary and its options stay one message
                budget -= len(head) + len(body)
                shown += 1
                r.add(head, "b")
                r.add(body)
                if q.entry in self.kb.entries and len(rows) < 4:
                    rows.append([nav.ENTRY.button("🔗 " + short(self.kb.entries[q.entry].title), q.entry)])
            if len(missed) > shown:
                r.add(self.text("quiz_more_missed", n=len(missed) - shown) + "\n")
            r.add("\n" + self.text("quiz_srs_note"), "i")
        else:
            r.add(self.text("quiz_perfect"))
        rows.append([nav.QUIZ.button(self.text("quiz_again")), nav.LEADERBOARD.button(self.text("btn_leaderboard"))])
        rows.append(home_row(self.ctx))
        r.buttons = rows
        return r

    @command("bangxephang", needs_db=True, shortcut="leaderboard")
    def leaderboard(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        """Units by average score and participation; users within the caller's unit. Inspectors and
        admins see every province."""
        see_all = self.ctx.roles.role_of(user) in ("inspector", "admin")
        r = Reply(mode=mode, buttons=[[nav.QUIZ.button(self.text("quiz_again")), *home_row(self.ctx)]])
        unit = self.storage.unit_of(user.id)
        rows = self.storage.unit_leaderboard()
        if not see_all and unit:
            rows = [x for x in rows if x["province_code"] == unit["province_code"]]
        r.add(self.text("lb_units_title") + "\n", "b")
        if not rows:
            r.add(self.text("lb_empty") + "\n")
        for n, x in enumerate(rows[:10], 1):
            r.add(
                self.text(
                    "lb_unit_row",
                    n=n,
                    unit=x["name"],
                    avg=round(x["avg_score"]),
                    takers=x["takers"],
                    members=x["members"],
                )
                + "\n"
            )
        if unit and self.storage.membership(user.id) == "pending":
            r.add(self.text("lb_pending") + "\n", "i")  # their own results are not in the units' figures yet
        if unit:
            r.add("\n" + self.text("lb_users_title", unit=unit["name"]) + "\n", "b")
            for n, x in enumerate(self.storage.user_leaderboard(unit["id"])[:10], 1):
                r.add(
                    self.text(
                        "lb_user_row", n=n, name=x["first_name"] or "…", avg=round(x["avg_score"]), quizzes=x["quizzes"]
                    )
                    + "\n"
                )
        else:
            r.add("\n" + self.text("lb_no_unit"), "i")
        return r

    @nav.LEADERBOARD
    def leaderboard_pressed(self, user: User) -> Reply:
        return self.leaderboard(user, mode="edit")

    @command("hangngay", needs_db=True, shortcut="daily")
    def daily_menu(self, user: User, arg: str = "") -> Reply:
        """/hangngay: pick the time of the daily question, or switch it off."""
        rows = [
            [DAILY.button(t, t.replace(":", "")) for t in DAILY_TIMES],
            [DAILY.button(self.text("daily_btn_off"), "off")],
        ]
        return Reply(buttons=rows).add(self.text("daily_prompt"))

    @DAILY
    def daily_set(self, user: User, value: str) -> Reply:
        hhmm = None if value == "off" else f"{value[:2]}:{value[2:]}"
        self.storage.set_daily(user.id, hhmm)
        if self.ctx.scheduler:
            self.ctx.scheduler.daily(user.id, hhmm)
        return Reply(mode="edit").add(self.text("daily_on", time=hhmm) if hhmm else self.text("daily_off"))

    def daily_question(self, user: User) -> Reply | None:
        """The one-question quiz sent by the daily job (due reviews first)."""
        return self.start(user, "mix", LENGTHS[0], single=True) if self.kb.quizzes else None


# ---------------------------------------------------------------------- team quizzes (inspectors)

TQ_NEW = Action("qn", role="inspector", name="teamquiz.new")
TQ_TOPIC = Action("qo", Slug("topic"), role="inspector", name="teamquiz.topic")
TQ_GROUP = Action("qv", Slug("group"), role="inspector", name="teamquiz.group")
TQ_LENGTH = Action("qy", Choice("length", *(str(n) for n in LENGTHS)), role="inspector", name="teamquiz.length")
TQ_ALL = Action("qu", role="inspector", name="teamquiz.units")
TQ_RESULTS = Action("qr", Id("assignment"), role="inspector", name="teamquiz.results")
TQ_EXPORT = Action("qx", Id("assignment"), role="inspector", name="teamquiz.export")
TQ_TAKE = Action("qk", Id("assignment"), name="teamquiz.take")
TQ_SEND = Action("qs", role="inspector", name="teamquiz.send")
TQ_CANCEL = Action("qc", role="inspector", name="teamquiz.cancel")


class TeamQuizPrompt(StrEnum):
    LENGTH = "tq_len"  # topic chosen, waiting for the length button
    DEADLINE = "tq_deadline"  # waiting for a date ("20/12", "thứ Sáu tuần sau")
    UNITS = "tq_units"  # waiting for unit names (or "all units of the province")
    CONFIRM = "tq_confirm"  # the assignment shown in full, waiting for «Gửi» or «Huỷ»


class TeamQuizzes(Feature):
    """Quizzes the inspection team sends to chosen units (/quiznhom), taken with /lambai ID, with results
    per unit and an .xlsx export. The draft lives in the prompt's data so a restart keeps it."""

    def __init__(self, ctx, quizzes: Quizzes):
        super().__init__(ctx)
        self.quizzes = quizzes

    @command("quiznhom", role="inspector", needs_db=True, advertised=False)
    def home(self, user: User, arg: str = "") -> Reply:
        rows = [[TQ_NEW.button(self.text("tq_new"))]]
        for a in self.storage.assignments()[:8]:
            title = self.text("quiz_mixed_plain") if a["topic"] == "mix" else self.kb.topics[a["topic"]].title
            rows.append([TQ_RESULTS.button(short(f"#{a['id']} {title} · {vn_date(a['deadline'])}", 60), a["id"])])
        rows.append(home_row(self.ctx))
        return Reply(buttons=rows).add(self.text("tq_intro"))

    def _quiz_topic_ids(self) -> set[str]:
        return {q.topic for q in self.kb.quizzes.values()}

    @TQ_NEW
    def new(self, user: User) -> Reply:
        """«Giao bài mới»: mixed, or a group of topics, then the topic (as /quiz)."""
        rows = [[TQ_TOPIC.button(self.text("quiz_mixed_plain"), "mix")]]
        rows += [[TQ_GROUP.button(short(g.title, 60), g.id)] for g, _ in grouped(self.kb, self._quiz_topic_ids())]
        return Reply(buttons=rows + self._cancel_row(), mode="edit").add(self.text("tq_ask_topic"))

    @TQ_GROUP
    def group(self, user: User, group_id: str) -> Reply | None:
        tids = group_topics(self.kb, self._quiz_topic_ids(), group_id)
        if not tids:
            return None
        rows = [[TQ_TOPIC.button(short(self.kb.topics[t].title, 60), t)] for t in tids]
        rows.append([TQ_NEW.button(self.text("btn_back")), *self._cancel_row()[0]])
        title = self.kb.groups[group_id].title
        return Reply(buttons=rows, mode="edit").add(self.text("tq_ask_topic_in", group=title))

    def _cancel_row(self) -> list:
        return [[TQ_CANCEL.button(self.text("btn_cancel"))]]

    @TQ_CANCEL
    def cancel(self, user: User) -> Reply:
        """«Huỷ» on any step: the draft is dropped, nothing is sent."""
        pending = self.storage.get_prompt(user.id)
        if pending and pending[0] in set(TeamQuizPrompt):
            self.storage.clear_prompt(user.id)
        return Reply(mode="edit", buttons=[home_row(self.ctx)]).add(self.text("tq_cancelled"))

    @TQ_TOPIC
    def topic(self, user: User, topic: str) -> Reply | None:
        if topic != "mix" and topic not in self.kb.topics:
            return None
        self.storage.set_prompt(user.id, TeamQuizPrompt.LENGTH, {"topic": topic})
        row = [TQ_LENGTH.button(self.text("quiz_len", n=n), str(n)) for n in LENGTHS]
        return Reply(buttons=[row, *self._cancel_row()], mode="edit").add(self.text("quiz_len_prompt"))

    @TQ_LENGTH
    def length(self, user: User, n: str) -> Reply | None:
        pending = self.storage.get_prompt(user.id)
        if not pending or pending[0] != TeamQuizPrompt.LENGTH:
            return None
        self.storage.set_prompt(user.id, TeamQuizPrompt.DEADLINE, {**pending[1], "length": int(n)})
        return Reply(mode="edit", buttons=self._cancel_row()).add(self.text("tq_ask_deadline"))

    @prompt(TeamQuizPrompt.LENGTH, role="inspector")
    def length_typed(self, user: User, data: dict, text: str) -> Reply:
        self.storage.clear_prompt(user.id)
        return self.home(user)

    @prompt(TeamQuizPrompt.DEADLINE, role="inspector")
    def deadline_typed(self, user: User, data: dict, text: str) -> Reply:
        """The deadline as officials write it ("20/12", "thứ Sáu tuần sau", "cuối tháng"), today or later;
        then the units."""
        try:
            deadline = parse_date(text, self.ctx.today())
        except WhenError as exc:
            return Reply(buttons=self._cancel_row()).add(
                self.text(exc.key, **exc.values) + "\n" + self.text("tq_ask_deadline")
            )
        self.storage.set_prompt(user.id, TeamQuizPrompt.UNITS, {**data, "deadline": deadline.isoformat()})
        return Reply(buttons=[[TQ_ALL.button(self.text("tq_all_province"))], *self._cancel_row()]).add(
            self.say(user, "tq_ask_units")
        )

    @prompt(TeamQuizPrompt.UNITS, role="inspector")
    def units_typed(self, user: User, data: dict, text: str) -> Reply:
        from bot.units import match_registered_names  # the units module is loaded only where units are named

        if data.get("ask_province"):  # «Tất cả đơn vị trong tỉnh» with no province known: a province's name
            province = self._typed_province(text)
            if province is not None:
                return self._all_in(user, data, province.code, province.name)
        units, missed = match_registered_names(self.storage.all_units(), text)
        if not units:
            return Reply(buttons=[[TQ_ALL.button(self.text("tq_all_province"))], *self._cancel_row()]).add(
                self.text("rem_units_none")
            )
        return self._confirm(user, data, [u["id"] for u in units], missed)

    @TQ_ALL
    def all_province(self, user: User) -> Reply | None:
        pending = self.storage.get_prompt(user.id)
        if not pending or pending[0] != TeamQuizPrompt.UNITS:
            return None
        from bot.units import provinces

        unit = self.storage.unit_of(user.id)
        code = unit["province_code"] if unit else (self.ctx.province.code if self.ctx.province else None)
        if not code:  # no unit and no configured province: ask which one; the draft stays
            self.storage.set_prompt(user.id, TeamQuizPrompt.UNITS, {**pending[1], "ask_province": True})
            return Reply(buttons=self._cancel_row()).add(self.text("tq_ask_province"))
        place = provinces().get(int(code))
        return self._all_in(user, pending[1], int(code), place.name if place else str(code))

    def _all_in(self, user: User, data: dict, code: int, name: str) -> Reply:
        """Every registered unit of a province, confirmed before anything is sent; none: ask for names."""
        ids = self.storage.unit_ids_in_province(code)
        if not ids:
            return Reply(buttons=self._cancel_row()).add(self.text("tq_no_units_in", province=name))
        return self._confirm(user, {k: v for k, v in data.items() if k != "ask_province"}, ids, [])

    @staticmethod
    def _typed_province(text: str):
        """The province named by ``text`` ("Lạng Sơn", "tinh lang son"), or None."""
        from bot.units import find_province

        bare = re.sub(r"^(tinh|thanh pho|tp)\s+", "", fold(text).strip())
        return find_province(bare) if bare else None

    def _confirm(self, user: User, data: dict, unit_ids: list[int], missed: list[str]) -> Reply:
        """Everything that will be sent, before it is: topic, length, deadline, the units (and the names
        typed that matched no unit), how many people; «Gửi» or «Huỷ»."""
        data = {**data, "units": unit_ids}
        self.storage.set_prompt(user.id, TeamQuizPrompt.CONFIRM, data)
        topic = data.get("topic", "mix")
        title = self.text("quiz_mixed_plain") if topic == "mix" else self.kb.topics[topic].title
        names = [u["name"] for u in self.storage.all_units() if u["id"] in set(unit_ids)]
        shown = ", ".join(names[:10]) + (self.text("tq_and_more", n=len(names) - 10) if len(names) > 10 else "")
        members = self.storage.recipients("units", ",".join(str(u) for u in unit_ids))
        text = self.say(
            user,
            "tq_confirm",
            title=title,
            n=data.get("length") or LENGTHS[0],
            deadline=vn_date(str(data.get("deadline"))),
            units=shown,
            count=len(names),
            members=len(members),
        )
        if missed:
            text += "\n\n" + self.text("tq_missed", names=", ".join(f"«{m}»" for m in missed))
        return Reply(buttons=[[TQ_SEND.button(self.text("tq_send")), TQ_CANCEL.button(self.text("btn_cancel"))]]).add(
            text
        )

    @prompt(TeamQuizPrompt.CONFIRM, role="inspector")
    def confirm_typed(self, user: User, data: dict, text: str) -> Reply:
        """Text while the confirmation waits: more unit names are added; the rest keeps waiting for a button."""
        from bot.units import match_registered_names

        units, missed = match_registered_names(self.storage.all_units(), text)
        if units:
            ids = list(dict.fromkeys([*data.get("units", []), *(u["id"] for u in units)]))
            return self._confirm(user, data, ids, missed)
        return Reply(buttons=[[TQ_SEND.button(self.text("tq_send")), TQ_CANCEL.button(self.text("btn_cancel"))]]).add(
            self.say(user, "tq_confirm_waiting")
        )

    @TQ_SEND
    def send(self, user: User) -> Reply | None:
        pending = self.storage.get_prompt(user.id)
        if not pending or pending[0] != TeamQuizPrompt.CONFIRM or not pending[1].get("units"):
            return None
        return self._create(user, pending[1], [int(u) for u in pending[1]["units"]])

    def _create(self, user: User, data: dict, unit_ids: list[int]) -> Reply:
        topic, n, deadline = data.get("topic", "mix"), int(data.get("length") or LENGTHS[0]), str(data.get("deadline"))
        aid = self.storage.create_assignment(user.id, topic, n, deadline, unit_ids)
        self.storage.clear_prompt(user.id)
        self.storage.audit(user.id, "teamquiz.create", str(aid), f"{topic} {n} {deadline} units={unit_ids}")
        members = self.storage.recipients("units", ",".join(str(u) for u in unit_ids))
        title = self.text("quiz_mixed_plain") if topic == "mix" else self.kb.topics[topic].title
        text = (
            self.text("tq_message", title=title, n=n, deadline=vn_date(deadline))
            + "\n\n"
            + signature(self.kb, self.storage, user.id)
        )
        take = [(self.text("tq_btn_take", id=aid), TQ_TAKE.data(aid))]
        bid = self.storage.create_broadcast(None, f"teamquiz-{aid}", user.id, text, members, links=take)
        if bid is not None and self.ctx.scheduler:
            self.ctx.scheduler.broadcast(bid)  # sent now, paced, on each member's channel
        return Reply(buttons=[[TQ_RESULTS.button(self.text("tq_results"), aid)]]).add(
            self.text("tq_created", id=aid, units=len(unit_ids), members=len(members))
        )

    @command("lambai", needs_db=True, advertised=False)
    def take(self, user: User, arg: str = "") -> Reply:
        """/lambai ID: start the assigned quiz, if the user's unit is assigned and the deadline has not passed;
        /lambai alone: the quizzes still open for the user's unit (the only one is started)."""
        if not arg.strip():
            return self._open_list(user)
        value = Id("assignment").parse(arg.strip())
        a = self.storage.get_assignment(value) if value is not None else None
        unit = self.storage.unit_of(user.id)
        if a is None:
            return Reply().add(self.text("tq_unknown"))
        if not unit or unit["id"] not in a["unit_ids"]:
            return Reply().add(self.text("tq_not_for_you"))
        if self.ctx.today().isoformat() > a["deadline"]:
            return Reply().add(self.text("tq_expired", deadline=vn_date(a["deadline"])))
        reply = self.quizzes.start(user, a["topic"], a["length"], assignment_id=a["id"])
        if reply is None:
            return Reply().add(self.text("quiz_none"))
        reply.mode = "send"
        return reply

    def _open_list(self, user: User) -> Reply:
        todo = self._open_for(user)
        if len(todo) == 1:
            return self.take(user, str(todo[0]["id"]))
        if not todo:
            return Reply(buttons=[home_row(self.ctx)]).add(self.say(user, "tq_none_open"))
        r = Reply().add(self.text("tq_open_title"))
        for a in todo:
            title = self._title(a)
            r.add(
                "\n"
                + self.text("mw_quiz_line", id=a["id"], title=title, n=a["length"], deadline=vn_date(a["deadline"]))
            )
            r.buttons.append([TQ_TAKE.button(short(self.text("mw_quiz_btn", id=a["id"], title=title), 60), a["id"])])
        r.buttons.append(home_row(self.ctx))
        return r

    def _open_for(self, user: User) -> list[dict]:
        """Team quizzes given to the person's unit, still open and not yet taken, soonest deadline first."""
        unit = self.storage.unit_of(user.id)
        if unit is None:
            return []
        today = self.ctx.today().isoformat()
        todo = [
            a
            for a in self.storage.assignments()
            if unit["id"] in a["unit_ids"]
            and a["deadline"] >= today
            and not self.storage.took_assignment(user.id, a["id"])
        ]
        return sorted(todo, key=lambda a: (a["deadline"], a["id"]))

    def _title(self, a: dict) -> str:
        return self.text("quiz_mixed_plain") if a["topic"] == "mix" else self.kb.topics[a["topic"]].title

    @TQ_TAKE
    def take_pressed(self, user: User, aid: int) -> Reply:
        """«Làm bài» under the message that assigned the quiz: the same as /lambai ID."""
        return self.take(user, str(aid))

    def my_work(self, user: User) -> Section | None:
        """Team quizzes given to the person's unit, still open and not yet taken, for "Việc của tôi"."""
        todo = self._open_for(user)
        if not todo:
            return None
        section = Section(self.text("mw_quizzes"))
        for a in todo[:3]:
            title = self._title(a)
            section.lines.append(
                self.text("mw_quiz_line", id=a["id"], title=title, n=a["length"], deadline=vn_date(a["deadline"]))
            )
            section.buttons.append(
                [TQ_TAKE.button(short(self.text("mw_quiz_btn", id=a["id"], title=title), 60), a["id"])]
            )
        return section

    @TQ_RESULTS
    def results(self, user: User, aid: int, mode: str = "send") -> Reply | None:
        a = self.storage.get_assignment(aid)
        if a is None:
            return None
        r = Reply(mode=mode).add(self.text("tq_results_title", id=a["id"], deadline=vn_date(a["deadline"])) + "\n", "b")
        for row in self.storage.assignment_results(a["id"]):
            avg = "—" if row["avg_score"] is None else f"{row['avg_score']:.0f}"
            r.add(
                "\n"
                + self.text(
                    "tq_results_row", unit=row["unit"], done=row["participants"], members=row["members"], avg=avg
                )
            )
            if row["unconfirmed"]:
                r.add(" " + self.text("tq_results_unconfirmed", n=row["unconfirmed"]), "i")
        r.buttons = [[TQ_EXPORT.button(self.text("pg_btn_xlsx"), a["id"])], home_row(self.ctx)]
        return r

    @TQ_EXPORT
    def export(self, user: User, aid: int) -> Reply | None:
        from openpyxl import Workbook
        from openpyxl.worksheet.worksheet import Worksheet

        a = self.storage.get_assignment(aid)
        if a is None:
            return None
        wb = Workbook()
        ws = wb.active
        assert isinstance(ws, Worksheet), "a new workbook has one worksheet"
        ws.append(
            [
                self.text("pg_col_unit"),
                self.text("tq_col_members"),
                self.text("tq_col_done"),
                self.text("tq_col_avg"),
                self.text("pg_col_unconfirmed"),
            ]
        )
        for row in self.storage.assignment_results(a["id"]):
            ws.append(
                [safe_cell(row["unit"]), row["members"], row["participants"], row["avg_score"], row["unconfirmed"]]
            )
        buf = io.BytesIO()
        wb.save(buf)
        caption = self.text("tq_results_title", id=a["id"], deadline=vn_date(a["deadline"]))
        return Reply(attachment=Attachment(f"trac-nghiem-nhom-{a['id']}.xlsx", buf.getvalue(), caption)).add(caption)


def vn_date(iso: str) -> str:
    """'2026-12-20' → '20/12/2026'."""
    return vi_date(date.fromisoformat(iso))
