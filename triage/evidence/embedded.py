"""Pictures inside pictures: the EXIF thumbnail of a JPEG and the previews a TIFF-based file
(TIFF, and the camera raw formats built on it: CR2, NEF, ARW, DNG ...) carries.

A thumbnail is written when the photo is taken and many editors leave it alone, so it can still
show the original after the main picture was cropped or retouched: it is hashed and matched as a
file of its own. Names are fixed and in braces, ``{exif-thumbnail}`` and ``{preview-N}``; an
entry's children come from exactly one reader chosen by its first bytes (an archive reader or
this one), so these names cannot meet a real archive member's name.

Only offsets and lengths are parsed here (a small TIFF IFD walk, bounds-checked); the pictures
themselves are validated by decoding when they are hashed.
"""

from __future__ import annotations

import struct

EXIF_THUMBNAIL = "{exif-thumbnail}"
#: IFDs followed at most (a hostile file may chain IFDs in a loop).
MAX_IFDS = 16
_THUMB_OFFSET, _THUMB_LENGTH, _SUB_IFDS = 0x0201, 0x0202, 0x014A
_STRIP_OFFSETS, _STRIP_COUNTS, _COMPRESSION = 0x0111, 0x0117, 0x0103


def detect(head: bytes) -> bool:
    return head.startswith((b"\xff\xd8\xff", b"II*\x00", b"MM\x00*"))


def _ifd_entries(tiff: bytes, endian: str, offset: int) -> tuple[dict[int, list[int]], int]:
    """Tags (numeric values only) of the IFD at ``offset`` and the next IFD's offset."""
    if offset <= 0 or offset + 2 > len(tiff):
        return {}, 0
    (count,) = struct.unpack_from(endian + "H", tiff, offset)
    tags: dict[int, list[int]] = {}
    for i in range(min(count, 1000)):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(tiff):
            break
        tag, typ, n = struct.unpack_from(endian + "HHI", tiff, pos)
        size = {3: 2, 4: 4, 13: 4}.get(typ)
        if size is None or n == 0 or n > 64:
            continue
        fmt = endian + ("H" if size == 2 else "I") * n
        where = pos + 8 if size * n <= 4 else struct.unpack_from(endian + "I", tiff, pos + 8)[0]
        if where + size * n > len(tiff):
            continue
        tags[tag] = list(struct.unpack_from(fmt, tiff, where))
    end = offset + 2 + 12 * count
    nxt = struct.unpack_from(endian + "I", tiff, end)[0] if end + 4 <= len(tiff) else 0
    return tags, nxt


def _tiff_pictures(tiff: bytes) -> list[tuple[int, bytes]]:
    """``(IFD number, JPEG bytes)`` for every IFD (chain and SubIFDs) holding a JPEG picture."""
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return []
    endian = "<" if tiff[:2] == b"II" else ">"
    queue = [struct.unpack_from(endian + "I", tiff, 4)[0]]
    seen: set[int] = set()
    found: list[tuple[int, bytes]] = []
    number = 0
    while queue and len(seen) < MAX_IFDS:
        offset = queue.pop(0)
        if offset in seen or offset <= 0:
            continue
        seen.add(offset)
        tags, nxt = _ifd_entries(tiff, endian, offset)
        pieces = []
        if _THUMB_OFFSET in tags and _THUMB_LENGTH in tags:
            pieces.append((tags[_THUMB_OFFSET][0], tags[_THUMB_LENGTH][0]))
        elif tags.get(_COMPRESSION) in ([6], [7]) and len(tags.get(_STRIP_OFFSETS, [])) == 1:
            pieces.append((tags[_STRIP_OFFSETS][0], tags.get(_STRIP_COUNTS, [0])[0]))
        for start, length in pieces:
            data = tiff[start : start + length]
            if length > 0 and start + length <= len(tiff) and data.startswith(b"\xff\xd8"):
                found.append((number, data))
        queue.extend(tags.get(_SUB_IFDS, []))
        if nxt:
            queue.append(nxt)
        number += 1
    return found


def _jpeg_exif(data: bytes) -> bytes | None:
    """The TIFF structure inside a JPEG's APP1 ``Exif`` segment, if any."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):  # end of picture, start of scan: no more metadata segments
            return None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
            return data[pos + 10 : pos + 2 + length]
        pos += 2 + length
    return None


def embedded_pictures(data: bytes) -> list[tuple[str, bytes]]:
    """``(member name, bytes)`` of the pictures embedded in ``data`` (a JPEG or a TIFF)."""
    if data.startswith(b"\xff\xd8\xff"):
        tiff = _jpeg_exif(data)
        if tiff is None:
            return []
        # In a JPEG's Exif, IFD1 (the second in the chain) holds the thumbnail.
        return [(EXIF_THUMBNAIL, pic) for _, pic in _tiff_pictures(tiff)][:1]
    try:
        return [(f"{{preview-{i + 1}}}", pic) for i, (_, pic) in enumerate(_tiff_pictures(data))]
    except struct.error:
        return []
