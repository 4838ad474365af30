"""Who the user is for the bot: their commune/ward or agency (/donvi), their profile (/toi), and
linking their Zalo and Telegram accounts into one person (/lienket) so progress and roles follow them."""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from typing import TYPE_CHECKING

from bot import nav
from bot.actions import Action, Context, Feature, Id, command, prompt
from bot.answers import Answers
from bot.home import home_row, main_menu
from bot.members import ENTER as ENTER_CODE
from bot.members import Members
from bot.reply import Button, Reply, User, short
from bot.roles import shown_id
from bot.text import fold

if TYPE_CHECKING:
    from bot.units import Place

PICK = Action("us", Id("ward"), name="unit.pick")
AGENCY = Action("ua", name="unit.agency")
CANCEL = Action("ux", name="unit.cancel")
LINK_MINUTES = 15
LINK_TRIES = 5  # wrong codes allowed per LINK_MINUTES before /lienket refuses
LINKABLE = {"telegram", "zalo"}  # a person has at most one account on each


class UnitPrompt(StrEnum):
    NAME = "unit_name"  # waiting for the commune/ward name
    AGENCY = "agency_name"  # waiting for an agency name
    AGENCY_PROVINCE = "agency_province"  # waiting for the province of the agency typed (data: name)


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
        if self.ctx.province:
            text = self.say(user, "unit_prompt", province=self.ctx.province.name)
        else:
            text = self.say(user, "unit_prompt_any")
        return Reply(buttons=self._cancel_rows()).add(text)

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
        if not places:
            side = self._side_question(user, text, agency=True)
            if side is not None:
                return side
            return Reply(buttons=self._cancel_rows()).add(self.say(user, "unit_not_found", text=text.strip()[:60]))
        rows = [[PICK.button(short(p.label, 60), p.code)] for p in places]
        rows.append([CANCEL.button(self.text("btn_cancel"))])
        return Reply(buttons=rows).add(self.text("unit_choose"))

    def _side_question(self, user: User, text: str, agency: bool = False) -> Reply | None:
        """A question typed while the bot waits for a unit: answered, and the registration stays open
        (the next text is still read as the unit), which the answer says. None when it is no question."""
        if not self.ctx.searcher.search(text).matched:
            return None
        reply = self.answers.ask(user, text)[0]
        reply.add("\n\n" + self.say(user, "unit_still_waiting"), "i")
        reply.buttons.extend(self._cancel_rows(agency=agency))
        return reply

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
        """The agency's name: filed under the province it names ("… tỉnh Lạng Sơn"), else the configured
        one; with neither, the bot asks for the province rather than guess."""
        name = " ".join(text.split())[:120]
        if len(name) < 3:
            return Reply().add(self.text("unit_agency_prompt"))
        from bot import units

        if not re.match(rf"(?:{self.text('unit_agency_words')})\b", fold(name)) and not units.provinces_named(name):
            side = self._side_question(user, name)
            if side is not None:
                return side
        named = units.provinces_named(name)
        if len(named) == 1:
            return self._agency_done(user, name, named[0])
        if not named and self.ctx.province:
            return self._agency_done(user, name, self.ctx.province)
        if self.ctx.province in named:
            return self._agency_done(user, name, self.ctx.province)
        self.storage.set_prompt(user.id, UnitPrompt.AGENCY_PROVINCE, {"name": name})
        return Reply(buttons=self._cancel_rows(agency=False)).add(self.text("unit_agency_province", name=name))

    @prompt(UnitPrompt.AGENCY_PROVINCE)
    def agency_province_typed(self, user: User, data: dict, text: str) -> Reply:
        from bot import units

        named = units.provinces_named(text)
        province = named[0] if len(named) == 1 else units.find_province(text.strip()[:40])
        name = str(data.get("name") or "")
        if province is not None and len(name) >= 3:
            return self._agency_done(user, name, province)
        side = self._side_question(user, text)
        if side is not None:
            return side
        return Reply(buttons=self._cancel_rows(agency=False)).add(
            self.text("unit_province_not_found", text=text.strip()[:40], name=name)
        )

    def _agency_done(self, user: User, name: str, province: Place) -> Reply:
        """File the user under the agency, the one already registered when it is the same agency
        spelt another way ("So KH&CN tinh Lang Son", "Sở Khoa học và Công nghệ tỉnh Lạng Sơn")."""
        from bot import units

        key = units.agency_key(name, province, self._expansions())
        same = next(
            (
                a
                for a in self.storage.agencies_in(province.code)
                if units.agency_key(a["name"], province, self._expansions()) == key
            ),
            None,
        )
        unit_id = same["id"] if same else self.storage.get_or_create_unit("co-quan", name, province.code, province.name)
        return self._done(user, unit_id)

    def _expansions(self) -> dict[str, str]:
        """Folded abbreviation → folded expansion, from the glossary ("kh cn" → "khoa hoc va cong nghe")."""
        out = {}
        for term in self.ctx.kb.glossary:
            for variant in (term.term, *term.variants):
                if fold(variant):
                    out[fold(variant)] = fold(term.expansion)
        return out

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
        rows = [
            [nav.MY_WORK.button(self.text("btn_my_work")), nav.CHECKLIST_RESULTS.button(self.text("btn_results"))],
            [nav.REGISTER_UNIT.button(self.text("btn_change_unit" if unit else "btn_unit"))],
            home_row(self.ctx),
        ]
        if status == "pending":  # last, so every other option keeps its number ("3" is always the unit)
            rows.append([ENTER_CODE.button(self.text("join_enter_btn"))])
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
