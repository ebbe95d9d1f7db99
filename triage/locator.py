"""The address of every byte: one location string that a human reads and a program parses back.

A location is a chain from the evidence item down to the bytes::

    EV1/p2@1048576(ntfs)/Users/a/photo.jpg#1234
    │   │  │       │     │                 └── meta address (inode / MFT entry; TSK's form)
    │   │  │       │     └── path inside the file system, as the file system names it
    │   │  │       └── file system type
    │   │  └── byte offset of the volume inside the disk image
    │   └── volume label: p1, p2 ... for partitions, ``fs`` for a bare file system
    └── evidence id chosen by the examiner

    EV1/DCIM/IMG_0001.jpg                      a file in a folder (no volume, no meta address)
    EV1/p1@32256(fat16)/a/b.zip#5>photos/c.jpg a member inside an archive
    EV1/p1@32256(fat16)/a/c.jpg#7>{exif-thumbnail}  a picture embedded in a picture
    EV1/p1@32256(fat16)/$unalloc@52428800+34210(carved jpeg)
                                               carved from the file system's unallocated space:
                                               absolute byte offset in the disk image + length
    EV1/$unalloc@1024+4096(carved png)         carved from disk space outside any partition
    EV1/a/b.zip>same.jpg#2                     the second member named ``same.jpg`` in b.zip
                                               (an archive may repeat a name; the first
                                               occurrence has no ``#N``)

Names come from the evidence, so they are hostile by default. In a path, ``%``, ``#``, ``>``,
control characters, bidirectional-override characters and bytes that are not UTF-8 are written as
``%XX`` (UTF-8 bytes, or the raw byte), so a location is always one printable line that cannot be
spoofed visually and parses back to the same address (``Location.parse(str(loc)) == loc``).
The modelled anchors are dfVFS path specifications (structure) and bulk_extractor forensic paths
(a compact string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from triage.errors import UsageError

_EVIDENCE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_VOLUME = re.compile(r"/([a-z]+[0-9]*)@([0-9]+)\(([a-z0-9_+.-]*)\)(?=/|#|>|$)")
_CARVED = re.compile(r"/\$unalloc@([0-9]+)\+([0-9]+)\(carved ([a-z0-9]+)\)(?=>|$)")
_META = re.compile(r"#([0-9]+(?:-[0-9]+)*)")
# Bidirectional controls and other invisible format characters that can disguise a name.
_INVISIBLE = set(range(0x200B, 0x2010)) | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_INVISIBLE |= {0xFEFF, 0x061C}


def valid_evidence_id(value: str) -> bool:
    """An evidence id is short and shell-, file- and URL-safe (it names files and rows)."""
    return bool(_EVIDENCE_ID.fullmatch(value))


def _needs_quote(ch: str) -> bool:
    o = ord(ch)
    return (
        ch in "%#>"
        or o < 0x20
        or 0x7F <= o < 0xA0
        or o in _INVISIBLE
        or 0xD800 <= o <= 0xDFFF  # lone surrogates: undecodable bytes (surrogateescape)
    )


#: In ``members``, a repeated name carries its occurrence number after this code point: a lone
#: high surrogate, which no archive reader produces (undecodable bytes become U+DC80..U+DCFF)
#: and :func:`unquote_path` cannot produce either, so it never meets a real name. It is rendered
#: as ``#N`` after the quoted name, where a real ``#`` is always ``%23``.
_REPEAT = "\ud800"
_OCCURRENCE = re.compile(r"#([1-9][0-9]*)\Z")


def member_id(name: str, occurrence: int = 1) -> str:
    """The ``members`` element for the ``occurrence``-th member (from 1) named ``name`` in one
    archive. The first keeps its bare name, so ordinary locations read as they always did."""
    return name if occurrence <= 1 else f"{name}{_REPEAT}{occurrence}"


def member_name(member: str) -> tuple[str, int]:
    """Inverse of :func:`member_id`: ``(name, occurrence)``."""
    name, sep, number = member.rpartition(_REPEAT)
    if sep and number.isascii() and number.isdigit() and int(number) > 1:
        return name, int(number)
    return member, 1


def quote_members(members: tuple[str, ...] | list[str]) -> str:
    """The ``>name>name#2`` tail of a location (also used in messages: one printable line)."""
    out = []
    for member in members:
        name, n = member_name(member)
        out.append(">" + quote_path(name) + (f"#{n}" if n > 1 else ""))
    return "".join(out)


def _parse_members(segments: list[str], text: str) -> tuple[str, ...]:
    out = []
    for seg in segments:
        number = 1
        if "#" in seg:
            m = _OCCURRENCE.search(seg)
            if m is None or "#" in seg[: m.start()] or int(m.group(1)) < 2:
                raise UsageError(f"not a location (bad member occurrence): {text!r}")
            seg, number = seg[: m.start()], int(m.group(1))
        out.append(member_id(unquote_path(seg), number))
    return tuple(out)


#: Every character :func:`_needs_quote` accepts, as one class: most names have none, and one
#: regex search over a name costs far less than a Python test per character.
_QUOTED = re.compile(
    "[%#>\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _quote_char(m: re.Match[str]) -> str:
    ch = m.group()
    if 0xDC80 <= ord(ch) <= 0xDCFF:
        return f"%{ord(ch) - 0xDC00:02X}"
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def quote_path(path: str) -> str:
    """Escape a path for a location string; ``/`` stays the separator."""
    if _QUOTED.search(path) is None:
        return path
    return _QUOTED.sub(_quote_char, path)


def unquote_path(text: str) -> str:
    """Inverse of :func:`quote_path`; undecodable bytes come back as surrogate escapes."""
    if "%" not in text:
        return text
    raw = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1 : i + 3] or ""):
            raw.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(ch.encode("utf-8", "surrogateescape"))
            i += 1
    return raw.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, order=True)
class Volume:
    """A file system inside a disk image: label (``p1``, ``fs``), byte offset and type."""

    label: str
    offset: int
    fs_type: str

    def __str__(self) -> str:
        return f"{self.label}@{self.offset}({self.fs_type})"


@dataclass(frozen=True, order=True)
class Carved:
    """Carved bytes: absolute byte offset in the disk image (not in the volume, so the number
    works directly with ``dd skip=``/``icat``-free tools), length, and the carved format."""

    offset: int
    length: int
    kind: str

    def __str__(self) -> str:
        return f"/$unalloc@{self.offset}+{self.length}(carved {self.kind})"


@dataclass(frozen=True, order=True)
class Location:
    """Where an entry's bytes come from. ``str()`` renders it; :meth:`parse` reads it back."""

    evidence_id: str
    volume: Volume | None = None
    path: str = ""
    meta: str | None = None
    members: tuple[str, ...] = field(default=())
    carved: Carved | None = None  # when set, ``path`` and ``meta`` are empty

    def __str__(self) -> str:
        parts = [self.evidence_id]
        if self.volume is not None:
            parts.append("/" + str(self.volume))
        path = quote_path(self.path)
        if self.volume is None and _VOLUME.match(path):
            # A folder whose first directory looks like a volume: keep the parse unambiguous.
            path = path.replace("@", "%40", 1)
        if path.startswith("/$unalloc@"):
            path = path.replace("@", "%40", 1)  # a real name that looks like a carved segment
        if self.carved is not None:
            path = str(self.carved)
        parts.append(path)
        if self.meta is not None:
            parts.append("#" + self.meta)
        parts.append(quote_members(self.members))
        return "".join(parts)

    def child(self, member: str) -> Location:
        """The location of a member inside this entry (an archive member, an embedded picture)."""
        return replace(self, members=(*self.members, member))

    @classmethod
    def parse(cls, text: str) -> Location:
        """Parse a rendered location; raises :class:`UsageError` for malformed text."""
        m = re.match(r"[A-Za-z0-9._-]{1,64}", text)
        if not m:
            raise UsageError(f"not a location (no evidence id): {text!r}")
        evidence_id, pos = m.group(0), m.end()
        volume = None
        vm = _VOLUME.match(text, pos)
        if vm:
            volume = Volume(vm.group(1), int(vm.group(2)), vm.group(3))
            pos = vm.end()
        cm = _CARVED.match(text, pos)
        if cm:
            carved = Carved(int(cm.group(1)), int(cm.group(2)), cm.group(3))
            members = _parse_members(text[cm.end() :].split(">")[1:], text)
            return cls(evidence_id, volume, "", None, members, carved)
        head, *members = text[pos:].split(">")
        meta = None
        if "#" in head:
            head, _, meta_text = head.partition("#")
            if not _META.fullmatch("#" + meta_text):
                raise UsageError(f"not a location (bad meta address): {text!r}")
            meta = meta_text
        if head and not head.startswith("/"):
            raise UsageError(f"not a location (path must start with '/'): {text!r}")
        return cls(evidence_id, volume, unquote_path(head), meta, _parse_members(members, text))
