"""The topic browser (/chude): groups, then topics, then the entries of a topic, paged."""

from __future__ import annotations

from bot import nav
from bot.actions import Action, Feature, Index, Slug, command
from bot.atlas import ROOT
from bot.home import home_row
from bot.knowledge import Group
from bot.reply import Reply, User, short

PAGE_SIZE = 8

GROUP = Action("g", Slug("group"), needs_db=False, name="topics.group")
TOPIC = Action("t", Slug("topic"), Index("page"), needs_db=False, name="topics.topic")


def grouped(kb, topic_ids) -> list[tuple[Group, list[str]]]:
    """The topic groups of topics.yaml holding any of ``topic_ids``, each with those of its topics, in
    the file's order: a list of topics long for a phone (the quiz's 15) is shown a group at a time."""
    wanted = set(topic_ids)
    found = [(g, [t for t in g.topics if t in wanted]) for g in kb.groups.values()]
    return [(g, tids) for g, tids in found if tids]


def group_topics(kb, topic_ids, group_id: str) -> list[str] | None:
    """The topics of one group of :func:`grouped` (None: no such group, or none of its topics wanted)."""
    return next((tids for g, tids in grouped(kb, topic_ids) if g.id == group_id), None)


def group_rows(kb) -> list:
    """One button per topic group (under a declined question)."""
    return [[GROUP.button(short(g.title), g.id)] for g in kb.groups.values()]


class Topics(Feature):
    """Browsing the knowledge base by topic."""

    @command("chude", shortcut="topics")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        """The topic groups (first level of /chude)."""
        rows = group_rows(self.kb) + [[ROOT.button(self.text("btn_atlas"))], home_row(self.ctx)]
        return Reply(buttons=rows, mode=mode).add(self.text("topics_intro"))

    @nav.TOPICS
    def pressed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    @GROUP
    def group(self, user: User, group_id: str) -> Reply | None:
        group = self.kb.groups.get(group_id)
        if not group:
            return None
        rows = [
            [TOPIC.button(short(f"{self.kb.topics[tid].title} ({len(self.kb.entries_in_topic(tid))})"), tid, 0)]
            for tid in group.topics
        ]
        rows.append([nav.TOPICS.button(self.text("btn_back")), *home_row(self.ctx)])
        return Reply(buttons=rows, mode="edit").add(self.text("group_intro", group=group.title))

    @TOPIC
    def topic(self, user: User, topic_id: str, page: int) -> Reply | None:
        topic = self.kb.topics.get(topic_id)
        if not topic:
            return None
        entries = self.kb.entries_in_topic(topic_id)
        pages = max(1, -(-len(entries) // PAGE_SIZE))
        if page >= pages:
            return None
        chunk = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        rows = [[nav.ENTRY.button(short(e.title), e.id)] for e in chunk]
        nav_row = []
        if page > 0:
            nav_row.append(TOPIC.button(self.text("btn_prev"), topic_id, page - 1))
        if page + 1 < pages:
            nav_row.append(TOPIC.button(self.text("btn_more"), topic_id, page + 1))
        if nav_row:
            rows.append(nav_row)
        rows.append([GROUP.button(self.text("btn_back"), topic.group), *home_row(self.ctx)])
        text = self.text("topic_intro", topic=topic.title, count=len(entries)) if entries else self.text("topic_empty")
        if pages > 1:
            text += "\n" + self.text("page_label", page=page + 1, pages=pages)
        return Reply(buttons=rows, mode="edit").add(text)
