"""Who the user is for the bot: their commune/ward or agency (/donvi), their profile (/toi), and
linking their Zalo and Telegram accounts into one person (/lienket) so progress and roles follow them."""

from __future__ import annotations

import re
import secrets
from enum import StrEnum

from bot import nav
from bot.actions import Action, Context, Feature, Id, command, prompt
from bot.answers import Answers
from bot.home import home_row, main_menu
from bot.members import ENTER as ENTER_CODE
from bot.members import Members
from bot.reply import Button, Reply, User, short
from bot.roles import shown_id
from bot.text import fold

PICK = Action("us", Id("ward"), name="unit.pick")
AGENCY = Action("ua", name="unit.agency")
CANCEL = Action("ux", name="unit.cancel")
LINK_MINUTES = 15
LINK_TRIES = 5  # wrong codes allowed per LINK_MINUTES before /lienket refuses
LINKABLE = {"telegram", "zalo"}  # a person has at most one account on each


class UnitPrompt(StrEnum):
    NAME = "unit_name"  # waiting for the commune/ward name
    AGENCY = "agency_name"  # waiting for an agency name


class Profile(Feature):
    """Unit registration, the profile screen and account linking."""

    def __init__(self, ctx: Context, answers: Answers, members: Members):
        super().__init__(ctx)
        self.answers = answers
        self.members = members

    def _cancel_rows(self, agency: bool = True) -> list[list[Button]]:
        rows = [[AGENCY.button(self.text("unit_agency_btn"))]] if agency else []
        return rows + [[CANCEL.button(self.text("btn_cancel"))]]

    @command("donvi", needs_db=True)
    def register(self, user: User, arg: str = "") -> Reply:
        """/donvi: ask which commune/ward (or agency) the user works for."""
        self.storage.set_prompt(user.id, UnitPrompt.NAME)
        province = self.ctx.province.name if self.ctx.province else "…"
        return Reply(buttons=self._cancel_rows()).add(self.say(user, "unit_prompt", province=province))

    @nav.REGISTER_UNIT
    def register_pressed(self, user: User) -> Reply:
        return self.register(user)

    @prompt(UnitPrompt.NAME)
    def unit_typed(self, user: User, data: dict, text: str) -> Reply:
        from bot import units  # the official list is loaded only where a screen shows units

        province = self.ctx.province.code if self.ctx.province else None
        folded = fold(text)
        for code, place in units.provinces().items():  # "xa Tan Thanh lang son" names another province
            name = fold(place.name)
            rest = f" {folded} ".replace(f" {name} ", " ").strip()
            if rest != folded and len(rest.split()) >= 2:
                province, text = code, rest
                break
        places = units.match_wards(text[:100], province, limit=4)
        if not places and self.ctx.searcher.search(text).matched:
            self.storage.clear_prompt(user.id)  # it was a question, not a unit name: answer it
            return self.answers.ask(user, text)[0]
        if not places:
            return Reply(buttons=self._cancel_rows()).add(self.say(user, "unit_not_found", text=text.strip()[:60]))
        rows = [[PICK.button(short(p.label, 60), p.code)] for p in places]
        rows.append([CANCEL.button(self.text("btn_cancel"))])
        return Reply(buttons=rows).add(self.text("unit_choose"))

    @PICK
    def pick(self, user: User, code: int) -> Reply | None:
        from bot import units

        place = units.wards().get(code)
        if place is None:
            return None
        unit_id = self.storage.get_or_create_unit(
            place.kind, place.name, place.province_code, place.province_name, ward_code=place.code
        )
        return self._done(user, unit_id)

    @AGENCY
    def agency(self, user: User) -> Reply:
        self.storage.set_prompt(user.id, UnitPrompt.AGENCY)
        return Reply(buttons=self._cancel_rows(agency=False)).add(self.text("unit_agency_prompt"))

    @prompt(UnitPrompt.AGENCY)
    def agency_typed(self, user: User, data: dict, text: str) -> Reply:
        name = " ".join(text.split())[:120]
        if len(name) < 3:
            return Reply().add(self.text("unit_agency_prompt"))
        from bot import units

        province = self.ctx.province or next(iter(units.provinces().values()))
        return self._done(user, self.storage.get_or_create_unit("co-quan", name, province.code, province.name))

    @CANCEL
    def cancel(self, user: User) -> Reply:
        self.storage.clear_prompt(user.id)
        return Reply(buttons=main_menu(self.ctx, user)).add(self.text("unit_cancelled"))

    def _done(self, user: User, unit_id: int) -> Reply:
        return self.members.after_registering(user, unit_id)

    @command("toi", needs_db=True, shortcut="profile")
    def profile(self, user: User, arg: str = "") -> Reply:
        """/toi: who the user is for the bot."""
        unit = self.storage.unit_of(user.id)
        role = self.ctx.roles.role_of(user)
        accounts = self.storage.accounts_of(user.id)
        linked = ", ".join(self.text(f"channel_{a['channel']}") for a in accounts)
        status = self.storage.membership(user.id)
        text = (
            self.text("profile_id", id=shown_id(user))
            + "\n"
            + self.text(
                "profile",
                name=user.first_name or "anh/chị",
                unit=f"{unit['name']} ({unit['province_name']}) — {self.text(f'member_{status}')}"
                if unit
                else self.text("no_unit"),
                role=self.text(f"role_{role}"),
                runs=self.storage.count_done_runs(user.id),
            )
        )
        if len(accounts) > 1:
            text += "\n" + self.text("profile_linked", channels=linked)
        rows = [[ENTER_CODE.button(self.text("join_enter_btn"))]] if status == "pending" else []
        rows += [
            [nav.MY_WORK.button(self.text("btn_my_work")), nav.CHECKLIST_RESULTS.button(self.text("btn_results"))],
            [nav.REGISTER_UNIT.button(self.text("btn_change_unit" if unit else "btn_unit"))],
            home_row(self.ctx),
        ]
        return Reply(buttons=rows).add(text)

    @nav.PROFILE
    def profile_pressed(self, user: User) -> Reply:
        return self.profile(user)

    @command("lienket", needs_db=True)
    def link(self, user: User, arg: str = "") -> Reply:
        """/lienket: a one-time code to link this account with the person's account on the other
        channel; /lienket CODE (typed on the other channel) links them. Only a Zalo account and a
        Telegram account are ever joined: a code typed on the channel it was made on is refused."""
        code = arg.strip()
        mine = self._channels(user.id)
        if not code:
            if LINKABLE <= mine:
                linked = ", ".join(self.text(f"channel_{c}") for c in sorted(mine))
                return Reply().add(self.text("link_full", channels=linked))
            while not self.storage.create_link_code(user.id, code := f"{secrets.randbelow(10**6):06d}", LINK_MINUTES):
                pass
            other = self.text(f"link_other_{user.channel}") if f"link_other_{user.channel}" in self.ctx.kb.ui else ""
            return Reply().add(
                self.text("link_code", code=code, minutes=LINK_MINUTES, other=other or self.text("link_other_any"))
            )
        if self.storage.failures(user.id, "link", LINK_MINUTES) >= LINK_TRIES:
            return Reply().add(self.text("link_locked", minutes=LINK_MINUTES))
        owner = self.storage.link_code_owner(code) if re.fullmatch(r"\d{6}", code) else None
        if owner is None:
            self.storage.record_failure(user.id, "link")
            return Reply().add(self.text("link_bad"))
        if owner == user.id:
            return Reply().add(self.text("link_same", code=code))
        refused = self._refusal(user, self._channels(owner), mine)
        if refused:
            self.storage.record_failure(user.id, "link")
            self.storage.audit(owner, "account.link.refused", user.key, refused)
            return Reply().add(self.text(refused, channel=self.text(f"channel_{user.channel}")))
        self.storage.take_link_code(code, user.id)
        self.storage.merge_people(user.id, owner)
        self.storage.audit(owner, "account.link", user.key)
        return Reply(
            buttons=main_menu(self.ctx, User(owner, user.first_name, user.username, user.channel, user.account))
        ).add(self.text("link_done"))

    def _channels(self, person: int) -> set[str]:
        return {a["channel"] for a in self.storage.accounts_of(person)}

    @staticmethod
    def _refusal(user: User, theirs: set[str], mine: set[str]) -> str | None:
        """Why two people cannot be joined (the ui.yaml key), None when they can: the result must have at
        most one account per channel, so a second account on one channel never inherits a unit or role."""
        if user.channel in theirs:
            return "link_same_channel" if theirs == {user.channel} else "link_owner_full"
        if theirs & mine:
            return "link_taker_full"
        return None
