"""Every file in the corpus's disk/ folder opens and lists what the reference says, or fails
with one clear line: nothing in the folder is left unchecked.

The expectation for an image is, in order: a stored fls listing ``expected/<folder>_<name>.txt``
(the ``.gz`` suffix dropped), the stored listing of the image it is a copy of (:data:`COPY_OF`:
the same file system in another container), an fls listing recorded here
(:data:`INLINE_FLS`), the hand-written APFS list, or a refusal (:data:`REFUSED`). A new image in
the folder with none of these fails, so it gets an expectation when it is added.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from expected_listings import APFS_RAW, DFVFS_IMAGE_VHD, FAT32_LOOP, ISO9660_IMAGE_ISO
from fls_listing import assert_same_as_fls

from triage.errors import EvidenceError
from triage.evidence import open_evidence
from triage.evidence.rawimage import find_segments
from triage.locator import Location

#: image → the stored listing of the image it holds (the same file system, other container)
COPY_OF = {
    "sleuthkit/image.vhd": "sleuthkit_image.dd.txt",
    "sleuthkit/image.vmdk": "sleuthkit_image.dd.txt",
    "sleuthkit/image.qcow": "sleuthkit_image.dd.txt",
    "dfvfs/ext2.vhd": "dfvfs_ext2.E01.txt",
    "dfvfs/ext2.vmdk": "dfvfs_ext2.E01.txt",
    "dfvfs/ext2.qcow2": "dfvfs_ext2.E01.txt",
}
INLINE_FLS = {
    "sleuthkit/image.iso": ISO9660_IMAGE_ISO,
    "dfvfs/image.vhd": DFVFS_IMAGE_VHD,
    "dfvfs/image-differential.vhd": DFVFS_IMAGE_VHD,  # its parent with no change written
    "dfir_ntfs/fat32_loop.raw.gz": FAT32_LOOP,
}
APFS = {"dfvfs/apfs.raw": APFS_RAW}
REFUSED = {"dfvfs/bogus.001": "not a recognised disk image or file system"}

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"
_LATER_EWF = re.compile(r"\.(?:[ELs]x?0[2-9]|[ELs]x?[1-9][0-9]|E[A-Z][A-Z])$")


def _not_an_image(path: Path) -> str | None:
    """Why ``path`` is not checked on its own, or ``None``."""
    if path.name == "License" or path.suffix == ".txt":
        return "documentation, not an image"
    if _LATER_EWF.search(path.name):
        return "a later E01 segment (read with its first segment)"
    if path.suffix != ".gz" and find_segments(path)[1]:
        return "a later split-raw segment (read with its first segment)"
    return None


def _corpus_files() -> list[str]:
    disk = TESTDATA / "disk"
    if not disk.is_dir():
        return ["<corpus absent>"]
    return sorted(p.relative_to(disk).as_posix() for p in disk.rglob("*") if p.is_file())


@pytest.mark.parametrize("rel", _corpus_files())
def test_every_corpus_image(testdata, gunzip, rel):
    path = testdata / "disk" / rel
    if reason := _not_an_image(path):
        pytest.skip(reason)
    if rel in REFUSED:
        with pytest.raises(EvidenceError, match=REFUSED[rel]) as err:
            open_evidence(path, "EV1")
        assert "\n" not in str(err.value)
        return
    stored = testdata / "expected" / (rel.replace("/", "_").removesuffix(".gz") + ".txt")
    ev = open_evidence(gunzip(rel) if rel.endswith(".gz") else path, "EV1")
    try:
        if stored.is_file():
            assert_same_as_fls(ev, stored.read_text(encoding="utf-8"))
        elif rel in COPY_OF:
            assert_same_as_fls(ev, (testdata / "expected" / COPY_OF[rel]).read_text(encoding="utf-8"))
        elif rel in INLINE_FLS:
            assert_same_as_fls(ev, INLINE_FLS[rel])
        elif rel in APFS:
            entries = list(ev.entries())
            assert {(e.path, e.inode, e.size) for e in entries} == APFS[rel]
            assert len(entries) == len(APFS[rel])
        else:
            pytest.fail(f"no expectation for {rel}: add a listing for it (see the module docstring)")
        for entry in ev.entries():
            assert Location.parse(str(entry.location)) == entry.location
    finally:
        ev.close()
