"""Self-check quizzes (knowledge/quizzes/*.yaml): question bank, sessions, spaced repetition, leaderboards.

Telegram shows each question as a native quiz poll (non-anonymous, so every answer reaches us);
the terminal chat shows the same question with numbered buttons. Either way the answer goes
through :meth:`QuizScreens.answer`, which records it once and moves to the next question.

Spaced repetition is a Leitner scheme: a missed question comes back the next day; each right
answer moves it to a longer interval; after enough right answers in a row it is retired.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from bot.knowledge import Checker, KnowledgeBase, folder_documents, line_of
from bot.reply import Button, Reply, User, short

MAX_QUESTION = 250      # Telegram allows 300 for a poll question; we prefix "Câu 3/10 · "
MAX_OPTION = 100
MAX_EXPLANATION = 200   # Telegram's limit for a quiz explanation
LENGTHS = (5, 10, 20)
INTERVALS = {1: 1, 2: 3, 3: 7, 4: 14, 5: 30}   # Leitner box → days until the next review
RETIRED_BOX = 6                                  # reached after 5 right answers in a row
MAX_MISSED_SHOWN = 8                             # the summary must fit one message


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    question: str
    options: tuple[str, ...]
    answer: int
    difficulty: int
    explanation: str
    entry: str


@dataclass(frozen=True)
class Poll:
    """A question to show: Telegram sends a quiz poll, the terminal numbered buttons."""

    session_id: int
    index: int
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str


def load_quizzes(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/quizzes/*.yaml into kb.quizzes; check options, answer, lengths and the backing entry."""
    for _, file, items in folder_documents(ck, kb, "quizzes", "quizzes"):
        for raw in ck.items({"quizzes": items}, "quizzes", file):
            qid = ck.ident(raw, file, "câu hỏi trắc nghiệm")
            w = f"câu '{qid}': "
            options = ck.strings(raw, "options", file, where=w)
            answer = raw.get("answer")
            line = raw["__line__"]
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


def pick_questions(kb: KnowledgeBase, topic: str | None, length: int, due: list[str], seen: set[str],
                   rnd: random.Random) -> list[str]:
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


class QuizScreens:
    """The quiz part of the conversation (callback kinds qh, qt, ql, qa, qx, qd)."""

    def __init__(self, kb: KnowledgeBase, storage, today, rnd: random.Random | None = None):
        self.kb = kb
        self.storage = storage
        self.today = today
        self.rnd = rnd or random.Random()

    def home(self, user: User, mode: str = "send") -> Reply:
        """/quiz: pick a topic (or mixed)."""
        counts: dict[str, int] = {}
        for q in self.kb.quizzes.values():
            counts[q.topic] = counts.get(q.topic, 0) + 1
        due = len(self.storage.due_reviews(user.id, self.today().isoformat()))
        rows = [[Button(self.kb.text("quiz_mixed", due=due) if due else self.kb.text("quiz_mixed_plain"), "qt:mix")]]
        for tid, topic in self.kb.topics.items():
            if counts.get(tid):
                rows.append([Button(short(f"{topic.title} ({counts[tid]})", 60), f"qt:{tid}")])
        rows.append([Button(self.kb.text("btn_leaderboard"), "qb"), Button(self.kb.text("btn_home"), "m")])
        return Reply(buttons=rows, mode=mode).add(self.kb.text("quiz_intro"))

    def choose_length(self, user: User, topic: str) -> Reply | None:
        if topic != "mix" and topic not in self.kb.topics:
            return None
        row = [Button(self.kb.text("quiz_len", n=n), f"ql:{topic}:{n}") for n in LENGTHS]
        return Reply(buttons=[row, [Button(self.kb.text("btn_back"), "qh")]], mode="edit").add(self.kb.text("quiz_len_prompt"))

    def start(self, user: User, topic: str, length: str, assignment_id: int | None = None,
              single: bool = False) -> Reply | None:
        """A new session of ``length`` questions (or one question for the daily job)."""
        if (topic != "mix" and topic not in self.kb.topics) or not length.isdigit() or int(length) not in LENGTHS:
            return None
        today = self.today().isoformat()
        ids = pick_questions(self.kb, None if topic == "mix" else topic, 1 if single else int(length),
                             self.storage.due_reviews(user.id, today), self.storage.seen_questions(user.id), self.rnd)
        if not ids:
            return None
        unit = self.storage.unit_of(user.id)
        session = self.storage.start_quiz(user.id, unit["id"] if unit else None, topic, ids, assignment_id)
        reply = Reply(mode="send" if single else "edit")
        if not single:
            reply.add(self.kb.text("quiz_started", n=len(ids)))
        reply.poll = self.poll(session, 0)
        return reply

    def poll(self, session: dict, index: int) -> Poll:
        q = self.kb.quizzes[session["questions"][index]]
        header = self.kb.text("quiz_header", n=index + 1, total=len(session["questions"]), score=session["correct"])
        return Poll(session["id"], index, f"{header} {q.question}", q.options, q.answer, q.explanation)

    def answer(self, user: User, session_id: int, index: int, option: int) -> Reply | None:
        """Record one answer (once); reply with the next question or the summary."""
        session = self.storage.get_quiz(session_id)
        if not session or session["user_id"] != user.id or session["status"] != "open":
            return None
        if index != session["position"] or index >= len(session["questions"]):
            return Reply(toast=self.kb.text("quiz_already"))  # a repeated or stale answer changes nothing
        q = self.kb.quizzes.get(session["questions"][index])
        if q is None or not 0 <= option < len(q.options):
            return None
        correct = option == q.answer
        today = self.today()
        if not self.storage.record_quiz_answer(session_id, index, q.id, option, correct):
            return Reply(toast=self.kb.text("quiz_already"))
        box = self.storage.srs_box(user.id, q.id)
        new_box, due = next_review(box, correct, today)
        self.storage.save_srs(user.id, q.id, new_box, due.isoformat() if due else None)
        session = self.storage.get_quiz(session_id)
        if session["position"] >= len(session["questions"]):
            return self.summary(user, session)
        reply = Reply()
        reply.poll = self.poll(session, session["position"])
        return reply

    def summary(self, user: User, session: dict) -> Reply:
        total = len(session["questions"])
        self.storage.finish_quiz(session["id"], round(100 * session["correct"] / total, 1))
        r = Reply()
        r.add(self.kb.text("quiz_done", correct=session["correct"], total=total,
                           pct=round(100 * session["correct"] / total)) + "\n", "b")
        missed = self.storage.missed_questions(session["id"])
        rows = []
        if missed:
            r.add("\n" + self.kb.text("quiz_missed") + "\n")
            for n, qid in enumerate(missed[:MAX_MISSED_SHOWN], 1):
                q = self.kb.quizzes[qid]
                r.add(f"{n}. {short(q.question, 160)}\n", "b")
                r.add(f"✔️ {q.options[q.answer]} — {q.explanation}\n")
                if q.entry in self.kb.entries and len(rows) < 4:
                    rows.append([Button("🔗 " + short(self.kb.entries[q.entry].title), f"e:{q.entry}")])
            if len(missed) > MAX_MISSED_SHOWN:
                r.add(self.kb.text("quiz_more_missed", n=len(missed) - MAX_MISSED_SHOWN) + "\n")
            r.add("\n" + self.kb.text("quiz_srs_note"), "i")
        else:
            r.add(self.kb.text("quiz_perfect"))
        rows.append([Button(self.kb.text("quiz_again"), "qh"), Button(self.kb.text("btn_leaderboard"), "qb")])
        rows.append([Button(self.kb.text("btn_home"), "m")])
        r.buttons = rows
        return r

    def leaderboard(self, user: User, see_all: bool, mode: str = "send") -> Reply:
        """Units by average score and participation; users within the caller's unit."""
        r = Reply(mode=mode, buttons=[[Button(self.kb.text("quiz_again"), "qh"), Button(self.kb.text("btn_home"), "m")]])
        unit = self.storage.unit_of(user.id)
        rows = self.storage.unit_leaderboard()
        if not see_all and unit:
            province = unit["province_code"]
            rows = [x for x in rows if x["province_code"] == province]
        r.add(self.kb.text("lb_units_title") + "\n", "b")
        if not rows:
            r.add(self.kb.text("lb_empty") + "\n")
        for n, x in enumerate(rows[:10], 1):
            r.add(self.kb.text("lb_unit_row", n=n, unit=x["name"], avg=round(x["avg_score"]), takers=x["takers"],
                               members=x["members"]) + "\n")
        if unit:
            r.add("\n" + self.kb.text("lb_users_title", unit=unit["name"]) + "\n", "b")
            for n, x in enumerate(self.storage.user_leaderboard(unit["id"])[:10], 1):
                r.add(self.kb.text("lb_user_row", n=n, name=x["first_name"] or "…", avg=round(x["avg_score"]),
                                   quizzes=x["quizzes"]) + "\n")
        else:
            r.add("\n" + self.kb.text("lb_no_unit"), "i")
        return r


class TeamQuizScreens:
    """Quizzes the inspection team sends to chosen units (/quiznhom), taken with /lambai ID, with results
    per unit and an .xlsx export. The draft lives in user_state so a restart keeps it."""

    def __init__(self, kb: KnowledgeBase, storage, quizzes: QuizScreens, today, match_units, province):
        self.kb = kb
        self.storage = storage
        self.quizzes = quizzes
        self.today = today
        self.match_units = match_units
        self.province = province

    def home(self, user: User) -> Reply:
        rows = [[Button(self.kb.text("tq_new"), "qn")]]
        for a in self.storage.assignments()[:8]:
            title = self.kb.text("quiz_mixed_plain") if a["topic"] == "mix" else self.kb.topics[a["topic"]].title
            rows.append([Button(short(f"#{a['id']} {title} · {a['deadline']}", 60), f"qr:{a['id']}")])
        rows.append([Button(self.kb.text("btn_home"), "m")])
        return Reply(buttons=rows).add(self.kb.text("tq_intro"))

    def new(self, user: User) -> Reply:
        rows = [[Button(self.kb.text("quiz_mixed_plain"), "qo:mix")]]
        rows += [[Button(short(t.title, 60), f"qo:{tid}")] for tid, t in self.kb.topics.items()
                 if any(q.topic == tid for q in self.kb.quizzes.values())]
        return Reply(buttons=rows, mode="edit").add(self.kb.text("tq_ask_topic"))

    def topic(self, user: User, topic: str) -> Reply | None:
        if topic != "mix" and topic not in self.kb.topics:
            return None
        self.storage.set_state(user.id, "tq_len", topic)
        row = [Button(self.kb.text("quiz_len", n=n), f"qy:{n}") for n in LENGTHS]
        return Reply(buttons=[row], mode="edit").add(self.kb.text("quiz_len_prompt"))

    def length(self, user: User, n: str) -> Reply | None:
        state = self.storage.get_state(user.id)
        if not state or state[0] != "tq_len" or not n.isdigit() or int(n) not in LENGTHS:
            return None
        self.storage.set_state(user.id, "tq_deadline", f"{state[1]}|{n}")
        return Reply(mode="edit").add(self.kb.text("tq_ask_deadline"))

    def on_text(self, user: User, step: str, data: str, text: str) -> Reply:
        import re
        from datetime import datetime as _dt

        if step == "tq_deadline":
            m = re.match(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$", text)
            try:
                deadline = _dt(int(m.group(3)), int(m.group(2)), int(m.group(1))).date() if m else None
            except ValueError:
                deadline = None
            if deadline is None or deadline < self.today():
                return Reply().add(self.kb.text("tq_bad_deadline"))
            self.storage.set_state(user.id, "tq_units", f"{data}|{deadline.isoformat()}")
            rows = [[Button(self.kb.text("tq_all_province"), "qu")]]
            return Reply(buttons=rows).add(self.kb.text("tq_ask_units"))
        if step == "tq_units":
            units = self.match_units(text)
            if not units:
                return Reply().add(self.kb.text("rem_units_none"))
            return self._create(user, data, [u["id"] for u in units])
        self.storage.clear_state(user.id)
        return self.home(user)

    def all_province(self, user: User) -> Reply | None:
        state = self.storage.get_state(user.id)
        if not state or state[0] != "tq_units":
            return None
        unit = self.storage.unit_of(user.id)
        code = unit["province_code"] if unit else (self.province.code if self.province else None)
        ids = self.storage.unit_ids_in_province(code) if code else []
        if not ids:
            return Reply().add(self.kb.text("tq_no_units"))
        return self._create(user, state[1], ids)

    def _create(self, user: User, data: str, unit_ids: list[int]) -> Reply:
        topic, n, deadline = data.split("|")
        aid = self.storage.create_assignment(user.id, topic, int(n), deadline, unit_ids)
        self.storage.clear_state(user.id)
        self.storage.audit(user.id, "teamquiz.create", str(aid), f"{topic} {n} {deadline} units={unit_ids}")
        members = [uid for uid in self.storage.recipients("units", ",".join(str(u) for u in unit_ids))]
        title = self.kb.text("quiz_mixed_plain") if topic == "mix" else self.kb.topics[topic].title
        text = self.kb.text("tq_message", title=title, n=n, deadline=_vn_date(deadline), id=aid)
        bid = self.storage.create_broadcast(None, f"teamquiz-{aid}", user.id, text, members)
        reply = Reply(buttons=[[Button(self.kb.text("tq_results"), f"qr:{aid}")]]).add(
            self.kb.text("tq_created", id=aid, units=len(unit_ids), members=len(members)))
        reply.broadcast_id = bid
        return reply

    def take(self, user: User, arg: str) -> Reply:
        """/lambai ID: start the assigned quiz, if the user's unit is assigned and the deadline has not passed."""
        a = self.storage.get_assignment(int(arg)) if arg.strip().isdigit() else None
        unit = self.storage.unit_of(user.id)
        if a is None:
            return Reply().add(self.kb.text("tq_unknown"))
        if not unit or unit["id"] not in a["unit_ids"]:
            return Reply().add(self.kb.text("tq_not_for_you"))
        if self.today().isoformat() > a["deadline"]:
            return Reply().add(self.kb.text("tq_expired", deadline=_vn_date(a["deadline"])))
        reply = self.quizzes.start(user, a["topic"], str(a["length"]), assignment_id=a["id"])
        if reply is None:
            return Reply().add(self.kb.text("quiz_none"))
        reply.mode = "send"
        return reply

    def results(self, user: User, aid: str, mode: str = "send") -> Reply | None:
        a = self.storage.get_assignment(int(aid)) if aid.isdigit() else None
        if a is None:
            return None
        r = Reply(mode=mode).add(self.kb.text("tq_results_title", id=a["id"], deadline=_vn_date(a["deadline"])) + "\n", "b")
        for row in self.storage.assignment_results(a["id"]):
            avg = "—" if row["avg_score"] is None else f"{row['avg_score']:.0f}"
            r.add("\n" + self.kb.text("tq_results_row", unit=row["unit"], done=row["participants"],
                                      members=row["members"], avg=avg))
        r.buttons = [[Button(self.kb.text("pg_btn_xlsx"), f"qx:{a['id']}")], [Button(self.kb.text("btn_home"), "m")]]
        return r

    def export(self, user: User, aid: str) -> Reply | None:
        from openpyxl import Workbook

        a = self.storage.get_assignment(int(aid)) if aid.isdigit() else None
        if a is None:
            return None
        import io

        wb = Workbook()
        ws = wb.active
        ws.append([self.kb.text("pg_col_unit"), self.kb.text("tq_col_members"), self.kb.text("tq_col_done"),
                   self.kb.text("tq_col_avg")])
        for row in self.storage.assignment_results(a["id"]):
            ws.append([row["unit"], row["members"], row["participants"], row["avg_score"]])
        buf = io.BytesIO()
        wb.save(buf)
        caption = self.kb.text("tq_results_title", id=a["id"], deadline=_vn_date(a["deadline"]))
        from bot.reply import Attachment

        return Reply(attachment=Attachment(f"trac-nghiem-nhom-{a['id']}.xlsx", buf.getvalue(), caption)).add(caption)


def _vn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(d):02d}/{int(m):02d}/{y}"
