"""Ready-to-fill forms (knowledge/forms/*.yaml) generated as .docx with python-docx.

Each form is laid out as a Vietnamese administrative document: unit name and number on the left,
the national motto and the place/date line on the right, a centred title, the body, and a signature
block. The text comes from YAML and ui.yaml; this module only lays it out.
"""

from __future__ import annotations

import io
import re
import unicodedata

from bot import nav
from bot.actions import Feature, command
from bot.home import home_row
from bot.knowledge import Form, FormSection, KnowledgeBase, sources_of
from bot.reply import Attachment, Reply, User, short
from bot.yamlcheck import LINE_KEY, Checker, line_of, load_folder

FONT = "Times New Roman"
FONT_SIZE_PT = 13


class FormError(Exception):
    """Unknown form name."""


def load_forms(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/forms/*.yaml into kb.forms."""
    for path, file, raw in load_folder(ck, "forms", "form"):
        fid = ck.ident(raw, file, "biểu mẫu")
        w = f"biểu mẫu '{fid}': "
        sections = []
        for sec in raw.get("sections") or []:
            if not isinstance(sec, dict):
                ck.add(file, line_of(raw, "sections"), f"{w}mỗi phần phải là bảng khóa: giá trị")
                continue
            table = sec.get("table")
            if not isinstance(table, dict):
                table = {}
            columns = tuple(str(c) for c in table.get("columns") or ())
            rows_raw = table.get("rows", 0)
            if isinstance(rows_raw, int):
                rows = tuple(("",) * len(columns) for _ in range(rows_raw))
            elif isinstance(rows_raw, list):
                rows = tuple(
                    tuple(str(c) for c in r) if isinstance(r, list) else (str(r),) + ("",) * (len(columns) - 1)
                    for r in rows_raw
                )
            else:
                rows = ()
            if any(len(r) != len(columns) for r in rows):
                ck.add(file, sec[LINE_KEY], f"{w}mỗi dòng của bảng phải có {len(columns)} ô")
            sections.append(
                FormSection(
                    ck.string(sec, "heading", file, where=w),
                    ck.strings(sec, "paragraphs", file, where=w),
                    columns,
                    rows,
                )
            )
        if fid and path.stem != fid:
            ck.add(file, raw[LINE_KEY], f"{w}tên tệp phải là {fid}.yaml")
        entries = ck.strings(raw, "entries", file, where=w)
        for eid in entries:
            if eid not in kb.entries:
                ck.add(file, line_of(raw, "entries"), f"{w}'entries' trỏ tới mục không tồn tại '{eid}'")
        kb.forms[fid] = Form(
            fid,
            ck.string(raw, "name", file, where=w),
            ck.string(raw, "title", file, where=w),
            ck.string(raw, "subtitle", file, required=False),
            tuple(sections),
            ck.strings(raw, "signatures", file, where=w),
            sources_of(ck, kb, raw, file, w),
            entries,
        )


def file_name(form: Form) -> str:
    """An ASCII file name for the form: 'bien-ban-xxld.docx'."""
    ascii_id = unicodedata.normalize("NFD", form.id).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9-]", "-", ascii_id.lower()) + ".docx"


def render(kb: KnowledgeBase, form_id: str, *, unit: str = "", year: int) -> bytes:
    """The form as .docx bytes, with the unit name and year filled in where known."""
    from docx import Document as DocxDocument  # imported here: only form requests pay for python-docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    form = kb.forms.get(form_id)
    if form is None:
        raise FormError(f"Không có biểu mẫu '{form_id}'. Có: {', '.join(sorted(kb.forms))}")
    unit_name = unit.strip() or kb.text("form_unit_placeholder")
    values = {"unit": unit.strip() or "đơn vị", "year": year}
    doc = DocxDocument()
    _setup(doc)
    _header(doc, kb, unit_name, year)
    _para(doc, form.title.format(**values), bold=True, size=Pt(14), align=WD_ALIGN_PARAGRAPH.CENTER, space_before=12)
    if form.subtitle:
        _para(doc, form.subtitle.format(**values), italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for sec in form.sections:
        _para(doc, sec.heading.format(**values), bold=True, space_before=8)
        for p in sec.paragraphs:
            _para(doc, p.format(**values), align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        if sec.columns:
            _table(doc, sec.columns, sec.rows)
    _signatures(doc, form.signatures, kb.text("form_sign_hint"))
    if form.sources:
        _para(
            doc,
            kb.text("form_sources", sources="; ".join(str(s) for s in form.sources)),
            italic=True,
            size=Pt(10),
            space_before=18,
        )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------- screens


class Forms(Feature):
    """/bieumau: every form, one tap (or number) to get the .docx with the user's unit filled in."""

    @command("bieumau", shortcut="forms")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        rows = [[nav.FORM.button("📄 " + short(f.name), f.id)] for f in self.kb.forms.values()]
        rows.append([nav.GUIDES.button(self.text("btn_guides")), *home_row(self.ctx)])
        return Reply(buttons=rows, mode=mode).add(self.text("forms_intro"))

    @nav.FORMS
    def pressed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    @nav.FORM
    def document(self, user: User, form_id: str) -> Reply | None:
        """The generated .docx of one form."""
        form = self.kb.forms.get(form_id)
        if form is None:
            return None
        unit = self.storage.unit_of(user.id) if self.ctx.storage else None
        data = render(self.kb, form_id, unit=unit["name"] if unit else "", year=self.ctx.today().year)
        caption = self.text("form_caption", name=form.name)
        return Reply(attachment=Attachment(file_name(form), data, caption, summary=self.outline(form))).add(caption)

    def outline(self, form: Form) -> str:
        """The form's parts and table columns, for a chat the file cannot reach."""
        lines = [self.text("form_outline", title=form.name)]
        for section in form.sections:
            columns = f" ({', '.join(section.columns)})" if section.columns else ""
            lines.append(f"• {section.heading}{columns}")
        return "\n".join(lines)


# ---------------------------------------------------------------------- layout helpers


def _setup(doc) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(FONT_SIZE_PT)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _para(doc_or_cell, text: str, *, bold=False, italic=False, underline=False, size=None, align=None, space_before=0):
    from docx.shared import Pt

    p = doc_or_cell.add_paragraph()
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_before = Pt(space_before)
    p.paragraph_format.space_after = Pt(2)
    for i, line in enumerate(text.split("\n")):
        run = p.add_run(line)
        run.bold, run.italic, run.underline = bold, italic, underline
        if size:
            run.font.size = size
        if i < len(text.split("\n")) - 1:
            run.add_break()
    return p


def _header(doc, kb: KnowledgeBase, unit_name: str, year: int) -> None:
    """Unit name and number (left), national motto and date line (right)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    for cell in (left, right):
        cell.paragraphs[0].text = ""
    _cell_para(left, unit_name.upper(), bold=True)
    _cell_para(left, kb.text("form_number"))
    _cell_para(right, kb.text("form_motto_1"), bold=True)
    _cell_para(right, kb.text("form_motto_2"), bold=True, underline=True)
    _cell_para(right, kb.text("form_date", year=year), italic=True)


def _cell_para(cell, text, **kw):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    first = cell.paragraphs[0]
    p = first if not first.text else cell.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(text)
    run.bold = kw.get("bold", False)
    run.italic = kw.get("italic", False)
    run.underline = kw.get("underline", False)
    run.font.size = Pt(12)


def _table(doc, columns, rows) -> None:
    from docx.shared import Pt

    table = doc.add_table(rows=1 + max(len(rows), 1), cols=len(columns))
    table.style = "Table Grid"
    for i, c in enumerate(columns):
        cell = table.rows[0].cells[i]
        cell.text = ""
        run = cell.paragraphs[0].add_run(c)
        run.bold = True
        run.font.size = Pt(11)
    for r, row in enumerate(rows, 1):
        for i, value in enumerate(row):
            cell = table.rows[r].cells[i]
            cell.text = ""
            run = cell.paragraphs[0].add_run(value or "")
            run.font.size = Pt(11)


def _signatures(doc, roles, hint: str) -> None:
    if not roles:
        return
    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=len(roles))
    for cell, role in zip(table.rows[0].cells, roles, strict=True):
        cell.text = ""
        _cell_para(cell, role, bold=True)
        _cell_para(cell, hint, italic=True)
