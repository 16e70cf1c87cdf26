"""Turning an uploaded file into lines of codes for the importer.

Text is UTF-8 (a BOM is dropped) or, failing that, GB18030 (what Chinese spreadsheets
export). A ``.csv`` file keeps the first column of each row (quoted fields understood); any
other file is one code per line, taken as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

UPLOAD_EXTENSIONS = (".txt", ".csv")


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def is_csv(filename: str) -> bool:
    return filename.lower().endswith(".csv")


def accepts(filename: str) -> bool:
    return filename.lower().endswith(UPLOAD_EXTENSIONS)


def code_lines(data: bytes, filename: str) -> Iterator[str]:
    """One string per line of the file (so line numbers match what the supplier sees)."""
    text = decode(data)
    if not is_csv(filename):
        yield from text.splitlines()
        return
    for row in csv.reader(io.StringIO(text, newline="")):
        yield row[0] if row else ""
