"""A stored reference is the same text whichever way it was encoded: the listing's fast path for
disk-image entries (numbers put into text made once per file system) must give exactly the bytes of
the general encoder, and decode back to the same reference."""

from __future__ import annotations

import dataclasses
import itertools

from triage.case import codec
from triage.records import EntryRef, SourceSpec


def _general(ref: EntryRef) -> str:
    """The general encoding, written out: every field, the source as an object, sorted keys."""
    data: dict[str, object] = {f.name: getattr(ref, f.name) for f in dataclasses.fields(EntryRef)}
    data["source"] = {"kind": ref.source.kind, "paths": ref.source.paths}
    return codec.dumps(data)


def _refs() -> list[EntryRef]:
    src = SourceSpec("raw", ('/evidence/disk "1" é.img', "/evidence/disk.002"))
    grid = itertools.product(
        (None, 0, 1048576), (None, "ext4", "ntfs"), (None, 5, 2**40), (None, 128), (None, 3), (None, 2)
    )
    refs = [
        EntryRef(src, volume_offset=o, fs_type=t, inode=i, attr_type=a, attr_id=b, volume_index=v)
        for o, t, i, a, b, v in grid
    ]
    return [
        *refs,
        EntryRef(SourceSpec("folder", ("/e",)), fs_path="/e/a\udcff.txt", inode=3, size=5),
        EntryRef(src, volume_offset=0, fs_type="fat16", inode=2, members=("a.zip", "b.jpg")),
        EntryRef(src, byte_range=(4096, 512)),
    ]


def test_fast_and_general_encodings_agree():
    for ref in _refs():
        text = codec.ref_to_json(ref)
        assert text == _general(ref)
        assert codec.ref_from_json(text) == ref
