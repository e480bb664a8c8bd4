"""SPEC 7: a licenses file's bytes or text as the text to read, or the one problem refusing it.

One decoding rule for every import path (GraphQL, command line, console): UTF-8 with or without a
BOM, UTF-16 with a BOM; anything else is NOT_UTF8, and over `MAX_FILE_BYTES` or binary is NOT_CSV
(the rules are stated in `seatkeeper.rules.licenses_csv`'s docstring).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from seatkeeper.rules.csv_report import ImportProblem, ProblemCode

MAX_FILE_BYTES = 20 * 1024 * 1024
# What a NOT_UTF8 problem advises (issue 16's words).
NOT_UTF8_ADVICE = "save it from your spreadsheet as 'CSV UTF-8'"

# Control characters other than tab, CR and LF: what binary data is made of and CSV text is not.
_BINARY = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BINARY_SAMPLE = 65_536


@dataclass(frozen=True)
class DecodedFile:
    """A licenses file's text (without BOM), or the one problem that refuses it whole."""

    text: str | None
    problem: ImportProblem | None = None


def _line_of(before: str) -> int:
    """The physical line (1-based) that follows the text `before`: CRLF, LF and CR each end one."""
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _not_utf8(line: int, what: str) -> DecodedFile:
    message = f"line {line}: {what}; the file is not UTF-8 text: {NOT_UTF8_ADVICE}"
    return DecodedFile(None, ImportProblem(line, ProblemCode.NOT_UTF8, message))


def _refused(code: str, message: str) -> DecodedFile:
    return DecodedFile(None, ImportProblem(None, code, message))


_UTF16_WITHOUT_BOM = "it looks like UTF-16 without a byte-order mark"


def _looks_like_utf16(sample: bytes | str) -> bool:
    """Letters of UTF-16 read byte by byte: a NUL (byte or character) after nearly every one."""
    nuls = sample.count(0) if isinstance(sample, bytes) else sample.count("\x00")
    return len(sample) >= 2 and nuls * 3 >= len(sample)


def _decode_bytes(data: bytes) -> DecodedFile:
    """UTF-16 with a BOM, else UTF-8 (BOM or not); anything else is NOT_UTF8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedFile(data.decode("utf-16"))  # the codec reads and drops the BOM
        except UnicodeDecodeError as error:
            return _not_utf8(1, f"byte {error.start + 1} is not UTF-16 text")
    if _looks_like_utf16(data[:1000]):
        return _not_utf8(1, _UTF16_WITHOUT_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = _line_of(data[: error.start].decode("utf-8"))
        shown = data[error.start : error.start + 1].hex().upper()
        return _not_utf8(line, f"byte {error.start + 1} (0x{shown}) is not UTF-8")
    return DecodedFile(text)


def decode_licenses_file(data: str | bytes) -> DecodedFile:
    """SPEC 7: the one decoding rule of every import path (GraphQL, command line, console).

    Bytes: UTF-8 with or without a BOM, or UTF-16 with a BOM; anything else is refused with one
    NOT_UTF8 problem on the first bad line, saying to save the file as 'CSV UTF-8' (a Windows-1252
    file is never stored with broken characters, and never called binary). Text (the GraphQL input,
    which clients must send decoded as UTF-8): refused as NOT_UTF8 when it holds a U+FFFD (what a
    client's lenient decoding leaves for bytes it could not read) or a lone surrogate. For both,
    every U+FEFF (the BOM, and the copies some writers repeat mid-file) is dropped; then over
    `MAX_FILE_BYTES`, NUL characters, or mostly control characters is NOT_CSV.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_FILE_BYTES:
            return _too_large(len(data))
        decoded = _decode_bytes(data)
        if decoded.text is None:
            return decoded
        text = decoded.text
    elif isinstance(data, str):
        text = data
        if len(text) > MAX_FILE_BYTES:  # characters are at most as many as bytes
            return _too_large(len(text))
        if not text.isascii():
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError as error:  # lone surrogates: no file's text holds them
                return _not_utf8(_line_of(text[: error.start]), "a character is not Unicode text")
            if size > MAX_FILE_BYTES:
                return _too_large(size)
    else:
        return _refused(ProblemCode.NOT_CSV, "the file is not text")
    # A BOM inside the text is no character of the file: Gnumeric 1.12 writes UTF-16 in chunks and
    # repeats the BOM at a chunk boundary, in the middle of a cell (tests/data/spreadsheets).
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    if "\ufffd" in text:  # a decoder's replacement for bytes it could not read
        at = text.index("\ufffd")
        return _not_utf8(_line_of(text[:at]), "it holds the replacement character \ufffd")
    if "\x00" in text:
        if _looks_like_utf16(text[:1000]):
            return _not_utf8(1, _UTF16_WITHOUT_BOM)
        return _refused(
            ProblemCode.NOT_CSV, "the file contains NUL bytes: it is binary data, not CSV text"
        )
    sample = text[:_BINARY_SAMPLE]
    if len(_BINARY.findall(sample)) > max(8, len(sample) // 100):
        return _refused(ProblemCode.NOT_CSV, "the file is binary data, not CSV text")
    return DecodedFile(text)


def _too_large(size: int) -> DecodedFile:
    return _refused(
        ProblemCode.NOT_CSV,
        f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} bytes (20 MB) can be imported at once: split it",
    )
