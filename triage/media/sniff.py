"""Media detection from content signatures, never from file names.

Seized media is full of renamed files (an executable called ``sample.jpg``, a photo called
``cache.dat``), so the type is decided only by the first bytes. The signatures live in
``signatures.tsv`` and the ISO-BMFF brands / Matroska doctypes in ``subtypes.tsv``: adding a format
is one line of data. The few checks that a fixed pattern cannot express (a plausible BMP header,
an ftyp brand list, an EBML doctype, MPEG-TS packet spacing) are the small functions below,
named from the table's ``check`` column.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

#: How many leading bytes :func:`sniff` wants. The deepest fixed look is a BDAV transport
#: stream's third sync byte (offset 388); an ftyp box's compatible-brand list or an EBML header
#: are a few dozen bytes. 1 KiB leaves room for long brand lists and costs nothing.
SNIFF_BYTES = 1024

Sniffed = tuple[str, str]  # (mime type, kind): kind is "picture" or "video"


@dataclass(frozen=True)
class Signature:
    offset: int
    pattern: tuple[int | None, ...]  # None = any byte
    mime: str
    kind: str
    check: str
    note: str
    #: The pattern compiled once: every file on a disk is tested against every row, and a regex
    #: match is one C call where a byte-by-byte loop was ~1.5 us a row.
    regex: re.Pattern[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = (b"." if p is None else re.escape(bytes((p,))) for p in self.pattern)
        object.__setattr__(self, "regex", re.compile(b"".join(parts), re.DOTALL))

    def matches(self, head: bytes) -> bool:
        return self.regex.match(head, self.offset) is not None


@dataclass(frozen=True)
class Subtype:
    mime: str
    kind: str  # "picture", "video" or "-" (known, but not media)
    generic: bool


def _rows(name: str) -> list[list[str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def signatures() -> tuple[Signature, ...]:
    """The signature table, in file order (first match wins)."""
    out = []
    for offset, pattern, mime, kind, check, note in _rows("signatures.tsv"):
        pairs = [pattern[i : i + 2] for i in range(0, len(pattern), 2)]
        parsed = tuple(None if p == "??" else int(p, 16) for p in pairs)
        out.append(Signature(int(offset), parsed, mime, kind, check, note))
    return tuple(out)


@cache
def subtypes() -> dict[tuple[str, bytes], Subtype]:
    """``(family, token) -> Subtype`` for ftyp brands and EBML doctypes."""
    out: dict[tuple[str, bytes], Subtype] = {}
    for family, token, mime, kind, generic, _note in _rows("subtypes.tsv"):
        raw = token.replace("_", " ").encode("ascii") if family == "ftyp" else token.encode("ascii")
        out[(family, raw)] = Subtype(mime, kind, generic == "yes")
    return out


# --------------------------------------------------------------------------- checks


def _u16le(b: bytes, off: int) -> int:
    return struct.unpack_from("<H", b, off)[0]


def _u32le(b: bytes, off: int) -> int:
    return struct.unpack_from("<I", b, off)[0]


def _check_bmp(head: bytes, sig: Signature) -> Sniffed | None:
    """BITMAPFILEHEADER + a DIB header of a known size with planes == 1 and a real bit depth."""
    if len(head) < 30:
        return None
    dib = _u32le(head, 14)
    data_offset = _u32le(head, 10)
    if dib == 12:  # OS/2 BITMAPCOREHEADER: 16-bit width/height
        planes, bpp = _u16le(head, 22), _u16le(head, 24)
    elif dib in (40, 52, 56, 64, 108, 124):
        width, height = struct.unpack_from("<ii", head, 18)
        if width <= 0 or height == 0:
            return None
        planes, bpp = _u16le(head, 26), _u16le(head, 28)
    else:
        return None
    if planes != 1 or bpp not in (1, 2, 4, 8, 16, 24, 32, 64):
        return None
    if not 14 + dib <= data_offset < 1 << 26:
        return None
    return sig.mime, sig.kind


def _check_ico(head: bytes, sig: Signature) -> Sniffed | None:
    """ICONDIR with 1..255 images and a first entry that looks like an icon entry."""
    if len(head) < 22:
        return None
    count = _u16le(head, 4)
    reserved, planes, bpp = head[9], _u16le(head, 10), _u16le(head, 12)
    size, offset = _u32le(head, 14), _u32le(head, 18)
    if not 1 <= count <= 255 or reserved != 0 or planes > 1:
        return None
    if bpp not in (0, 1, 4, 8, 16, 24, 32) or size == 0 or offset < 6 + 16 * count:
        return None
    return sig.mime, sig.kind


def _check_ftyp(head: bytes, sig: Signature) -> Sniffed | None:
    """Decide an ISO-BMFF file from its brands: a specific brand (major first, then the
    compatible ones in order) beats an umbrella brand such as ``isom`` or ``mif1``."""
    start = 12 if head[4:8] == b"jP  " else 0  # JPEG 2000: the ftyp box follows the signature box
    if len(head) < start + 16 or head[start + 4 : start + 8] != b"ftyp":
        return None
    size = struct.unpack_from(">I", head, start)[0]
    if size < 16:
        return None
    end = min(start + size, len(head))
    brands = [head[start + 8 : start + 12]]
    brands += [head[i : i + 4] for i in range(start + 16, end - 3, 4)]
    table = subtypes()
    known = [table[("ftyp", b)] for b in brands if ("ftyp", b) in table]
    chosen = next((s for s in known if not s.generic), None) or next(iter(known), None)
    if chosen is None or chosen.kind == "-":
        return None
    return chosen.mime, chosen.kind


def _check_ebml(head: bytes, sig: Signature) -> Sniffed | None:
    """Find the DocType element (ID 0x4282) in the EBML header and look it up."""
    at = head.find(b"\x42\x82", 4, 128)
    if at < 0 or at + 3 > len(head):
        return None
    first = head[at + 2]
    if first & 0x80:  # one-byte size, the usual case
        length, data = first & 0x7F, at + 3
    elif first & 0x40 and at + 4 <= len(head):
        length, data = ((first & 0x3F) << 8) | head[at + 3], at + 4
    else:
        return None
    doctype = head[data : data + length].rstrip(b"\0")
    found = subtypes().get(("ebml", doctype))
    if found is None or found.kind == "-":
        return None
    return found.mime, found.kind


def _sync_every(head: bytes, first: int, step: int = 188) -> bool:
    offsets = [first + step * i for i in range(3) if first + step * i < len(head)]
    return len(offsets) >= 2 and all(head[o] == 0x47 for o in offsets)


def _check_ts(head: bytes, sig: Signature) -> Sniffed | None:
    return (sig.mime, sig.kind) if _sync_every(head, 0) else None


def _check_m2ts(head: bytes, sig: Signature) -> Sniffed | None:
    return (sig.mime, sig.kind) if _sync_every(head, 4, 192) else None


def _check_qtatom(head: bytes, sig: Signature) -> Sniffed | None:
    """A QuickTime atom size is 0 (to end of file), 1 (64-bit size follows) or at least 8."""
    size = struct.unpack_from(">I", head, 0)[0]
    return (sig.mime, sig.kind) if size in (0, 1) or size >= 8 else None


CHECKS: dict[str, Callable[[bytes, Signature], Sniffed | None]] = {
    "bmp": _check_bmp,
    "ico": _check_ico,
    "ftyp": _check_ftyp,
    "ebml": _check_ebml,
    "ts": _check_ts,
    "m2ts": _check_m2ts,
    "qtatom": _check_qtatom,
}


@cache
def _first_bytes() -> tuple[tuple[int, int], ...]:
    """Per signature, the offset and value of its first fixed byte (``(-1, 0)``: none), a
    necessary condition checked before the signature's pattern."""
    out = []
    for sig in signatures():
        fixed = [(sig.offset + i, p) for i, p in enumerate(sig.pattern) if p is not None]
        out.append(fixed[0] if fixed else (-1, 0))
    return tuple(out)


def sniff(head: bytes) -> Sniffed | None:
    """``(mime_type, kind)`` of the content starting with ``head``, or None if it is not a
    picture or video we recognise. Give it at least :data:`SNIFF_BYTES` bytes when the file has
    that many; shorter heads are fine for shorter files."""
    head = bytes(head[:SNIFF_BYTES])
    size = len(head)
    for sig, (at, byte) in zip(signatures(), _first_bytes(), strict=True):
        # Most files of a drive are not media: one byte comparison rules most rows out before
        # the row's pattern runs (a third of a small file's cost in a worker was this loop).
        if at >= 0 and (at >= size or head[at] != byte):
            continue
        if not sig.matches(head):
            continue
        if not sig.check:
            return sig.mime, sig.kind
        found = CHECKS[sig.check](head, sig)
        if found is not None:
            return found
    return None
