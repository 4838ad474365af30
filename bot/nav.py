"""The screens other features link to: the main menu, an entry, a guide step, the forms, the quiz…

An action a single feature uses is declared in that feature's module. The actions below are the
places every feature may link to (a "🏠 Menu" row, "🔗 related question", "🧭 Hướng dẫn"), so they
live below all features, each handled by the feature named beside it; the layers point one way.
"""

from __future__ import annotations

from bot.actions import Action, Id, Index, Slug

HOME = Action("m", needs_db=False, name="home")  # bot.home
HELP = Action("h", needs_db=False, name="help")  # bot.home
TOPICS = Action("tg", needs_db=False, name="topics")  # bot.topics
ENTRY = Action("e", Slug("entry"), needs_db=False, name="entry")  # bot.answers
GUIDES = Action("gh", needs_db=False, name="guides")  # bot.guides
GUIDE_STEP = Action("gs", Slug("guide"), Index("step"), needs_db=False, name="guide.step")  # bot.guides
FORMS = Action("fl", needs_db=False, name="forms")  # bot.forms
FORM = Action("fm", Slug("form"), needs_db=False, name="form")  # bot.forms
CALENDAR = Action("cal", needs_db=False, name="calendar")  # bot.yearly
CHECKLISTS = Action("ch", name="checklists")  # bot.checklists
CHECKLIST_RESULTS = Action("cl", name="checklist.results-list")  # bot.checklists
QUIZ = Action("qh", name="quiz")  # bot.quizzes
LEADERBOARD = Action("qb", name="leaderboard")  # bot.quizzes
REGISTER_UNIT = Action("ur", name="unit.register")  # bot.profile
PROFILE = Action("pf", name="profile")  # bot.profile
PROGRESS = Action("pi", role="inspector", name="progress")  # bot.progress
MEMBERS = Action("mi", role="inspector", name="members")  # bot.members
MY_WORK = Action("vm", name="my-work")  # bot.followups
TASK = Action("vt", Id("task"), name="task.show")  # bot.followups
READINESS = Action("pk", Id("unit"), name="readiness.pack")  # bot.readiness
TASK_FROM_GAP = Action("vg", Id("run"), Index("item"), name="task.from-gap")  # bot.followups
