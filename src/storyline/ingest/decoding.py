"""Bytes to clean text, and the date and language fields every reader shares."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import charset_normalizer
import ftfy

# A file whose first 8 KiB hold a NUL byte, or more than this share of other control characters, is
# binary (an image, a PDF, a zip), not text in some unusual encoding.
BINARY_CONTROL_SHARE = 0.10
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class InputError(ValueError):
    """An input that cannot be read; the message names the reason, the caller adds the input's name."""


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 when valid, else the encoding charset-normalizer finds; mojibake repaired."""
    if not data.strip():
        raise InputError("empty file")
    head = data[:8192]
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise InputError("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        match = charset_normalizer.from_bytes(data).best()
        if match is None:
            raise InputError("undecodable text: no character encoding fits the bytes") from None
        text = str(match)
    sample = text[:8192]
    if sample and len(_CONTROL.findall(sample)) / len(sample) > BINARY_CONTROL_SHARE:
        raise InputError("binary file (control characters), not text")
    text = repair(text)
    if not text.strip():
        raise InputError("empty file")
    return text


def repair(text: str) -> str:
    """Mojibake repaired; curly quotes stay curly: they carry the quotation style that quote attribution
    reads."""
    return ftfy.fix_text(text, uncurl_quotes=False)


def parse_date(value: object) -> datetime:
    """ISO 8601 dates and datetimes (a trailing Z allowed) and RFC 2822 dates (feeds, e-mail); naive values
    are taken as UTC. Raises ValueError for anything else."""
    if not isinstance(value, str):
        raise ValueError(f"not a date string: {value!r}")
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"not a date: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
