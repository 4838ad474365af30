"""Step-by-step guides (knowledge/guides/*.yaml): loading, validation and the guide screens.

A guide is shown one step per message, edited in place, with Back / Next / Steps / Forms buttons.
Each button carries the step it leads to (``gs:<guide>:<step>``), so a button from an old message
still works, and the step a user reached is stored, so /huongdan resumes after a restart.
"""

from __future__ import annotations

from bot import nav
from bot.actions import Action, Feature, Slug, command
from bot.home import home_row
from bot.knowledge import Guide, KnowledgeBase, Step, sources_of
from bot.reply import Reply, Section, User, short
from bot.yamlcheck import LINE_KEY, Checker, line_of, load_folder

MIN_STEPS, MAX_STEPS = 3, 15
MAX_STEP_CHARS = 1200  # all fields of one step: must fit one phone screen and one message
PROGRESS_CELLS = 10


def load_guides(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/guides/*.yaml into kb.guides; check steps, entry ids and form ids."""
    for path, file, raw in load_folder(ck, "guides", "guide"):
        gid = ck.ident(raw, file, "hướng dẫn")
        w = f"hướng dẫn '{gid}': "
        steps = []
        raw_steps = raw.get("steps")
        if not isinstance(raw_steps, list):
            raw_steps = []
        if not MIN_STEPS <= len(raw_steps) <= MAX_STEPS:
            ck.add(file, line_of(raw, "steps"), f"{w}cần {MIN_STEPS}–{MAX_STEPS} bước, đang có {len(raw_steps)}")
        for n, st in enumerate(raw_steps, 1):
            if not isinstance(st, dict):
                ck.add(file, line_of(raw, "steps"), f"{w}bước {n} phải là bảng khóa: giá trị")
                continue
            sw = f"{w}bước {n}: "
            title, do, who, record, tip, mistake = (
                ck.string(st, k, file, where=sw) for k in ("title", "do", "who", "record", "tip", "mistake")
            )
            step = Step(title, do, who, record, tip, mistake, entries=ck.strings(st, "entries", file, where=sw))
            size = sum(len(x) for x in (step.do, step.who, step.record, step.tip, step.mistake))
            if size > MAX_STEP_CHARS:
                ck.add(file, st[LINE_KEY], f"{sw}dài {size} ký tự (tối đa {MAX_STEP_CHARS})")
            _check_entries(ck, kb, file, st[LINE_KEY], sw, step.entries)
            steps.append(step)
        entries = ck.strings(raw, "entries", file, where=w)
        _check_entries(ck, kb, file, line_of(raw, "entries"), w, entries)
        forms = ck.strings(raw, "forms", file, where=w)
        for f in forms:
            if f not in kb.forms:
                ck.add(file, line_of(raw, "forms"), f"{w}biểu mẫu '{f}' không có trong knowledge/forms/")
        if gid and path.stem != gid:
            ck.add(file, raw[LINE_KEY], f"{w}tên tệp phải là {gid}.yaml")
        if gid in kb.guides:
            ck.add(file, raw[LINE_KEY], f"hướng dẫn trùng id '{gid}'")
        kb.guides[gid] = Guide(
            gid,
            ck.string(raw, "title", file, where=w),
            ck.string(raw, "summary", file, where=w),
            tuple(steps),
            sources_of(ck, kb, raw, file, w),
            forms,
            entries,
        )


def _check_entries(ck: Checker, kb: KnowledgeBase, file: str, line: int, where: str, ids: tuple[str, ...]) -> None:
    for e in ids:
        if e not in kb.entries:
            ck.add(file, line, f"{where}mục '{e}' không có trong kho hỏi–đáp")


def guides_for_entry(kb: KnowledgeBase, entry_id: str) -> list[Guide]:
    """Guides that list this entry (for the 'Hướng dẫn' button under an answer), closest first: a
    guide that lists it among its own entries, then the guide most of whose steps share its topic
    (a programme of internal audits belongs to the internal-audit guide before the TTHC-update one)."""
    entry = kb.entries.get(entry_id)

    def closeness(g: Guide) -> tuple[bool, float]:
        ids = [i for s in g.steps for i in s.entries]
        same = sum(i in kb.entries and kb.entries[i].topic == entry.topic for i in ids) if entry else 0
        share = same / len(ids) if ids else 0.0
        return entry_id in g.entries, share

    found = [g for g in kb.guides.values() if entry_id in g.entries or any(entry_id in s.entries for s in g.steps)]
    return sorted(found, key=closeness, reverse=True)


def progress_bar(done: int, total: int) -> str:
    """▰▰▰▱▱▱▱▱▱▱ for step ``done`` of ``total``."""
    filled = round(PROGRESS_CELLS * done / total) if total else 0
    return "▰" * filled + "▱" * (PROGRESS_CELLS - filled)


# ---------------------------------------------------------------------- screens

STEPS = Action("gl", Slug("guide"), needs_db=False, name="guide.steps")
GUIDE_FORMS = Action("gf", Slug("guide"), needs_db=False, name="guide.forms")


class Guides(Feature):
    """/huongdan: the guides, one step per message, resuming where the user stopped."""

    @command("huongdan", shortcut="guides")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        """The list of guides, with 'continue' for the one the user was doing last."""
        progress = self.storage.guide_progress(user.id) if self.ctx.storage else {}
        rows = []
        last = max(progress.values(), key=lambda p: p["updated"], default=None)
        if last and last["guide_id"] in self.kb.guides and not last["done"]:
            g = self.kb.guides[last["guide_id"]]
            step = min(last["step"], len(g.steps) - 1)
            rows.append(
                [
                    nav.GUIDE_STEP.button(
                        short(self.text("guide_continue", title=g.title, step=step + 1, total=len(g.steps)), 60),
                        g.id,
                        step,
                    )
                ]
            )
        for g in self.kb.guides.values():
            p = progress.get(g.id)
            label = g.title
            if p and not p["done"]:
                label += " · " + self.text(
                    "guide_progress_note", step=min(p["step"], len(g.steps) - 1) + 1, total=len(g.steps)
                )
            elif p and p["done"]:
                label = "✅ " + label
            step = min(p["step"], len(g.steps) - 1) if p and not p["done"] else 0
            rows.append([nav.GUIDE_STEP.button(short(label, 60), g.id, step)])
        rows.append([nav.FORMS.button(self.text("btn_forms")), *home_row(self.ctx)])
        return Reply(buttons=rows, mode=mode).add(self.text("guides_intro"))

    @nav.GUIDES
    def pressed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    def my_work(self, user: User) -> Section | None:
        """Guides started and not finished, for "Việc của tôi"."""
        started = [
            (p, self.kb.guides[gid])
            for gid, p in self.storage.guide_progress(user.id).items()
            if not p["done"] and gid in self.kb.guides
        ]
        if not started:
            return None
        section = Section(self.text("mw_guides"))
        for p, g in started[:3]:
            step = min(p["step"], len(g.steps) - 1)
            section.lines.append(self.text("guide_progress_line", title=g.title, step=step + 1, total=len(g.steps)))
            section.buttons.append(
                [
                    nav.GUIDE_STEP.button(
                        short(self.text("guide_continue", title=g.title, step=step + 1, total=len(g.steps)), 60),
                        g.id,
                        step,
                    )
                ]
            )
        return section

    @nav.GUIDE_STEP
    def step(self, user: User, guide_id: str, n: int) -> Reply | None:
        """One step, edited into the pressed message; stores how far the user got."""
        g = self.kb.guides.get(guide_id)
        if not g or n >= len(g.steps):
            return None
        s = g.steps[n]
        total = len(g.steps)
        if self.ctx.storage:
            self.storage.save_guide_step(user.id, g.id, n)
        r = Reply(mode="edit")
        r.add(f"🧭 {g.title}\n", "b")
        r.add(f"{self.text('guide_step_header', step=n + 1, total=total)} {progress_bar(n + 1, total)}\n\n")
        r.add(s.title, "b").add("\n" + s.do.strip() + "\n\n")
        r.add(f"{self.text('guide_who')}: ", "b").add(s.who + "\n")
        r.add(f"{self.text('guide_record')}: ", "b").add(s.record + "\n")
        r.add(f"{self.text('guide_tip')}: ", "b").add(s.tip + "\n")
        r.add(f"{self.text('guide_mistake')}: ", "b").add(s.mistake)
        # «Tiếp» first, so on Zalo it is always option 1 ("1", "1", "1" walks forward), «Trước» after it
        row = [
            nav.GUIDE_STEP.button(self.text("btn_next"), g.id, n + 1)
            if n + 1 < total
            else GUIDE_FORMS.button(self.text("btn_done"), g.id)
        ]
        if n > 0:
            row.append(nav.GUIDE_STEP.button(self.text("btn_prev"), g.id, n - 1))
        rows = [row]
        rows += [
            [nav.ENTRY.button("🔗 " + short(self.kb.entries[e].title), e)]
            for e in s.entries[:2]
            if e in self.kb.entries
        ]
        rows.append([STEPS.button(self.text("btn_steps"), g.id), GUIDE_FORMS.button(self.text("btn_forms"), g.id)])
        rows.append([nav.GUIDES.button(self.text("btn_guides")), *home_row(self.ctx)])
        r.buttons = rows
        return r

    @STEPS
    def steps_list(self, user: User, guide_id: str) -> Reply | None:
        g = self.kb.guides.get(guide_id)
        if not g:
            return None
        # on Zalo the option numbers are the step numbers already: "3. Lập kế hoạch", not "3. 3. Lập kế hoạch"
        rows = [
            [nav.GUIDE_STEP.button(short(s.title if user.texts_only else f"{i + 1}. {s.title}", 60), g.id, i)]
            for i, s in enumerate(g.steps)
        ]
        rows.append([nav.GUIDES.button(self.text("btn_guides")), *home_row(self.ctx)])
        return Reply(buttons=rows, mode="edit").add(self.text("guide_steps_intro", title=g.title))

    @GUIDE_FORMS
    def forms(self, user: User, guide_id: str) -> Reply | None:
        """The forms of a guide; reached from the last step ('Xong') or the Forms button."""
        g = self.kb.guides.get(guide_id)
        if not g:
            return None
        text = self.text("forms_intro")
        if self.ctx.storage:
            progress = self.storage.guide_progress(user.id).get(g.id)
            if progress and progress["step"] >= len(g.steps) - 1:
                self.storage.save_guide_step(user.id, g.id, len(g.steps) - 1, done=True)
                text = self.text("guide_done", total=len(g.steps), title=g.title)
        rows = [[nav.FORM.button("📄 " + short(self.kb.forms[f].name), f)] for f in g.forms if f in self.kb.forms]
        rows.append([STEPS.button(self.text("btn_steps"), g.id), *home_row(self.ctx)])
        return Reply(buttons=rows, mode="edit").add(text)
