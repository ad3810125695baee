"""A streaming XLSX writer for ledgers: one sheet, inline strings, four styles.

openpyxl spends tens of microseconds a cell, which put a 20,000-child export past 10 s
(bench/README.md); this writes the same SpreadsheetML directly. openpyxl reads the result back
in the tests: title, merged title row, frozen header, widths, values and the footer.
"""
import io
import re
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
TITLE, HEADER, FOOTER = 1, 2, 3
CONTENT_TYPES = HEAD + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
ROOT_RELS = HEAD + (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                    f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
BOOK_RELS = HEAD + (f'<Relationships xmlns="{PKG}">'
                    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                    f'<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/></Relationships>')
STYLES = HEAD + (
    f'<styleSheet xmlns="{MAIN}"><fonts count="4">'
    '<font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="14"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font>'
    '<font><i/><sz val="11"/><color rgb="FF808080"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill><fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment horizontal="center"/></xf>'
    '<xf numFmtId="0" fontId="2" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _text(value) -> str:
    return escape(BAD_XML.sub("", str(value)))


def _cell(ref: str, value, style: int = 0) -> str:
    styled = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{styled}/>' if style else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"{styled}><v>{value}</v></c>'
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


def _row(number: int, letters: list[str], values, style: int = 0) -> str:
    cells = "".join(_cell(f"{letter}{number}", value, style) for letter, value in zip(letters, values))
    return f'<row r="{number}">{cells}</row>'


def _sheet_parts(widths: list[int], footer: str) -> tuple[str, str]:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    head = HEAD + (
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A3" sqref="A3"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')
    last = get_column_letter(len(widths))
    tail = (f'</sheetData><mergeCells count="1"><mergeCell ref="A1:{last}1"/></mergeCells>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            f'<headerFooter><oddFooter>{_text("&C" + footer.replace("&", "&&"))}</oddFooter></headerFooter>'
            '</worksheet>')
    return head, tail


def write_xlsx(sheet_name: str, title: str, columns: list, rows: list[dict], footer: str) -> bytes:
    """Return an XLSX: merged title row, frozen styled header, column widths, rows, footer watermark."""
    letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
    book = HEAD + (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="{_text(sheet_name)}" '
                   f'sheetId="1" r:id="rId1"/></sheets><definedNames><definedName name="_xlnm.Print_Titles" '
                   f"localSheetId=\"0\">'{_text(sheet_name)}'!$1:$2</definedName></definedNames></workbook>")
    head, tail = _sheet_parts([c.width for c in columns], footer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/workbook.xml", book), ("xl/_rels/workbook.xml.rels", BOOK_RELS),
                           ("xl/styles.xml", STYLES)):
            archive.writestr(name, part)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(head.encode())
            sheet.write(_row(1, letters[:1], [title], TITLE).encode())
            sheet.write(_row(2, letters, [c.label for c in columns], HEADER).encode())
            for start in range(0, len(rows), 1000):
                chunk = "".join(_row(n, letters, [r.get(c.key, "") for c in columns])
                                for n, r in enumerate(rows[start:start + 1000], start + 3))
                sheet.write(chunk.encode())
            sheet.write(_row(len(rows) + 3, letters[:1], [footer], FOOTER).encode())
            sheet.write(tail.encode())
    return buffer.getvalue()
