"""Cells that a spreadsheet program cannot run as a formula (OWASP, "CSV Injection").

A cell whose first character is `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
formula by Excel, LibreOffice or Google Sheets; so is one where such a character follows
leading spaces, line breaks, no-break spaces or control characters, which the programs skip.
Such a cell gets a leading `'`, which makes it text; the writer's quoting does the rest.
"""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")  # with full-width = + - @


def _skipped(character: str) -> bool:
    """Characters a spreadsheet passes over before it decides a cell is a formula."""
    return character.isspace() or unicodedata.category(character) in {"Cc", "Cf", "Zs"}


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    index = 0
    while index < len(text) and text[index] not in FORMULA_STARTS and _skipped(text[index]):
        index += 1
    if index < len(text) and text[index] in FORMULA_STARTS:
        return "'" + text
    return text
