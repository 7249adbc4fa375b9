"""Checks a workbook file passes before any parser sees it.

Workbooks arrive by email from people who should not always be trusted. An
.xlsx is a zip of XML parts; before openpyxl parses anything we check, with
bounded memory and time:

* the file's kind from its first bytes (an old .xls or a password-protected
  file is an OLE compound document, a CSV is text, an empty file is empty);
* the zip's central directory: entry count, declared sizes, compression ratio;
* every part's real decompressed size, streamed in chunks and stopped as soon
  as a limit is passed (a zip bomb can lie about its sizes in the directory);
* no XML part declares a DTD or entity (OOXML never does; an entity-expansion
  bomb must). openpyxl also parses with defusedxml, as a second guard.

Nothing here runs or loads macros: openpyxl never executes VBA, and .xlsm
files are read with their VBA left aside.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from engine.errors import CdmError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 5_000
MAX_TOTAL_UNCOMPRESSED = 300 * 1024 * 1024
MAX_PART_UNCOMPRESSED = 150 * 1024 * 1024
MAX_RATIO = 200  # a legitimate sheet compresses 5-30x; a bomb 1000x or more
RATIO_FLOOR_BYTES = 1024 * 1024  # small parts may compress well without being suspicious
CHUNK = 1 << 16
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


class UnsafeFileError(CdmError):
    """The file is not a workbook we can read safely; the message says what it is instead."""

    def __init__(self, path: Path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


def check_workbook_file(path: Path) -> None:
    """Raise UnsafeFileError unless ``path`` looks like an .xlsx/.xlsm that is safe to parse."""
    if not path.exists():
        raise UnsafeFileError(path, "no such file")
    if path.is_dir():
        raise UnsafeFileError(path, "is a folder, not a workbook")
    if not path.is_file():
        raise UnsafeFileError(path, "is not a regular file (a device, pipe or socket); give a saved workbook")
    size = path.stat().st_size
    if size == 0:
        raise UnsafeFileError(path, "is empty (0 bytes): was it saved completely?")
    if size > MAX_FILE_BYTES:
        raise UnsafeFileError(path, f"is {size:,} bytes; a deal workbook is at most {MAX_FILE_BYTES:,}")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        data = path.read_bytes()
        if ENCRYPTED_MARK in data:
            raise UnsafeFileError(path, "is password-protected: open it in Excel, remove the password (File > Info > "
                                        "Protect Workbook) and save it as .xlsx")  # fmt: skip
        raise UnsafeFileError(path, "is an old-format .xls workbook: open it in Excel and save it as .xlsx")
    if not head.startswith(b"PK"):
        kind = "text (a CSV saved with an .xlsx name?)" if _looks_like_text(path) else "not a zip package"
        raise UnsafeFileError(path, f"is not an .xlsx workbook: it is {kind}")
    try:
        with zipfile.ZipFile(path) as z:
            _check_zip(path, z)
    except zipfile.BadZipFile as exc:
        raise UnsafeFileError(path, f"is a damaged or truncated .xlsx ({exc}): was it copied or saved completely?") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise UnsafeFileError(path, f"cannot be read as an .xlsx ({type(exc).__name__}: {exc})") from None


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(512)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in sample


def _check_zip(path: Path, z: zipfile.ZipFile) -> None:
    infos = z.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UnsafeFileError(path, f"holds {len(infos):,} parts; a workbook has at most {MAX_ENTRIES:,}: refused")
    if "[Content_Types].xml" not in z.namelist():
        raise UnsafeFileError(path, "is a zip file but not an Office workbook (no [Content_Types].xml)")
    declared = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFileError(path, f"has an encrypted part {info.filename}: refused")
        declared += info.file_size
        _check_ratio(path, info.filename, info.file_size, info.compress_size)
    if declared > MAX_TOTAL_UNCOMPRESSED:
        raise UnsafeFileError(
            path, f"would expand to {declared:,} bytes (more than {MAX_TOTAL_UNCOMPRESSED:,}): a zip bomb? refused"
        )
    total = 0
    for info in infos:
        read = 0
        xml = info.filename.endswith((".xml", ".rels", ".vml"))
        tail = b""
        with z.open(info) as part:
            while chunk := part.read(CHUNK):
                if xml:  # the whole part, across chunk boundaries: a DOCTYPE can sit anywhere
                    window = (tail + chunk).upper()
                    if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                        raise UnsafeFileError(
                            path, f"part {info.filename} declares a DTD or entities, which workbooks never do: refused"
                        )
                    tail = window[-8:]
                read += len(chunk)
                total += len(chunk)
                if read > MAX_PART_UNCOMPRESSED or total > MAX_TOTAL_UNCOMPRESSED or read > max(info.file_size, 0) + CHUNK:
                    raise UnsafeFileError(path, f"part {info.filename} expands past its limits: a zip bomb? refused")
                _check_ratio(path, info.filename, read, info.compress_size)


def _check_ratio(path: Path, name: str, uncompressed: int, compressed: int) -> None:
    if uncompressed > RATIO_FLOOR_BYTES and uncompressed > MAX_RATIO * max(compressed, 1):
        raise UnsafeFileError(path, f"part {name} expands {uncompressed / max(compressed, 1):,.0f} times: a zip bomb? refused")


KEPT_PARTS = (
    ("a VBA project (macros)", r"(^|/)vbaProject\.bin$"),
    ("external links", r"^xl/externalLinks/externalLink\d+\.xml$"),
    ("images", r"^xl/media/"),
    ("drawings", r"^xl/drawings/drawing\d+\.xml$"),
    ("charts", r"^xl/charts/chart\d+\.xml$"),
    ("comments", r"^xl/comments\d*\.xml$"),
    ("threaded comments", r"^xl/threadedComments/"),
    ("tables", r"^xl/tables/table\d+\.xml$"),
    ("pivot tables", r"^xl/pivotTables/"),
    ("slicers", r"^xl/slicers?/"),
    ("form and ActiveX controls", r"^xl/(ctrlProps|activeX)/"),
    ("custom XML", r"^customXml/"),
    ("a digital signature", r"^_xmlsignatures/"),
    ("embedded objects", r"^xl/embeddings/"),
)
"""Parts of a user's workbook that a rewrite must carry over; a count that falls means something was dropped."""
MACRO_CONTENT_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def lost_parts(original: Path, rewritten: Path) -> list[str]:
    """What ``rewritten`` lacks of ``original``: each kind of part whose count fell, and a macro-enabled workbook's
    content type (Excel refuses an .xlsm saved with the plain .xlsx one)."""
    import re

    with zipfile.ZipFile(original) as a, zipfile.ZipFile(rewritten) as b:
        before, after = a.namelist(), b.namelist()
        lost = []
        for label, pattern in KEPT_PARTS:
            n_before = sum(1 for n in before if re.search(pattern, n))
            n_after = sum(1 for n in after if re.search(pattern, n))
            if n_after < n_before:
                lost.append(f"{label} ({n_before - n_after} of {n_before} parts)")
        if MACRO_CONTENT_TYPE in a.read("[Content_Types].xml") and MACRO_CONTENT_TYPE not in b.read("[Content_Types].xml"):
            lost.append("the macro-enabled file type")
    return lost
