"""Our listing equals The Sleuth Kit's ``fls -r -p`` for every image with a stored listing.

For each file system (``# fls -r -p -o OFFSET`` section of ``expected/*.txt``) the set of
``(path, meta address, deleted)`` of regular files must be equal. Regular files are fls lines
of type ``r/?`` (named regular files, ``r/-`` when only a deleted name is left) and ``-/r``
(orphans with no name type). Excluded line kinds and why are listed in
:func:`fls_listing.regular_files`: directories, links, TSK's virtual files, NTFS index
attributes. TSK prints control characters in names as ``^``; we map ours the same way.
"""

from __future__ import annotations

import re

import pytest
from fls_listing import parse_fls, regular_files

from triage.evidence import open_evidence

SECTOR = 512

# (expected listing, image; ".gz" images are decompressed first)
CASES = [
    ("sleuthkit_image.dd.txt", "sleuthkit/image.dd"),  # ext2, deleted names without metadata
    ("sleuthkit_image.E01.txt", "sleuthkit/image.E01"),  # the same as E01
    ("pytsk_image.raw.txt", "pytsk/image.raw"),  # ext2 with an orphan inode
    ("dfvfs_ext2.E01.txt", "dfvfs/ext2.E01"),
    ("dfvfs_ext2.split.E01.txt", "dfvfs/ext2.split.E01"),  # split E01 (.E01 + .E02)
    ("dfvfs_ext2.splitraw.000.txt", "dfvfs/ext2.splitraw.000"),  # split raw (.000 + .001)
    ("dfvfs_ímynd.dd.txt", "dfvfs/ímynd.dd"),  # non-ASCII image name
    ("sleuthkit_imageformat_mmls_1.E01.txt", "sleuthkit/imageformat_mmls_1.E01"),  # MBR, 2 x NTFS
    ("plaso_image-split.E01.txt", "plaso/image-split.E01"),  # split E01, MBR with extended
    ("pytsk_tsk_volume_system.raw.txt", "pytsk/tsk_volume_system.raw"),  # MBR primary + logical
    ("plaso_syslog_image.dd.txt", "plaso/syslog_image.dd"),  # deleted folders, orphans
    ("dfvfs_hfsplus.raw.txt", "dfvfs/hfsplus.raw"),
    ("dfvfs_iso9660.raw.txt", "dfvfs/iso9660.raw"),
    ("dfir_ntfs_fat12.raw.txt", "dfir_ntfs/fat12.raw.gz"),
    ("dfir_ntfs_fat16.raw.txt", "dfir_ntfs/fat16.raw.gz"),
    ("dfir_ntfs_fat16_moved.raw.txt", "dfir_ntfs/fat16_moved.raw.gz"),
    ("dfir_ntfs_fat_noloop.raw.txt", "dfir_ntfs/fat_noloop.raw.gz"),
    ("dfir_ntfs_fat_deleted_dir_2.raw.txt", "dfir_ntfs/fat_deleted_dir_2.raw.gz"),
    ("dfir_ntfs_fat32_small.raw.txt", "dfir_ntfs/fat32_small.raw.gz"),  # explicit FAT32 only
    ("dfir_ntfs_exfat_win.raw.txt", "dfir_ntfs/exfat_win.raw.gz"),
    ("dfir_ntfs_win_exfat_7.raw.txt", "dfir_ntfs/win_exfat_7.raw.gz"),
    ("dfir_ntfs_exfat_orphan.raw.txt", "dfir_ntfs/exfat_orphan.raw.gz"),
    ("dfir_ntfs_gpt-512-3p.raw.txt", "dfir_ntfs/gpt-512-3p.raw.gz"),  # GPT, no file systems
]


def _listing(evidence) -> dict[int, set[tuple[str, str, bool]]]:
    ours: dict[int, set[tuple[str, str, bool]]] = {}
    for e in evidence.entries():
        path = re.sub(r"[\x00-\x1f]", "^", e.path)
        ours.setdefault(e.location.volume.offset // SECTOR, set()).add((path, e.inode, e.deleted))
    return ours


@pytest.mark.parametrize("expected, image", CASES, ids=[c[0].removesuffix(".txt") for c in CASES])
def test_regular_files_match_fls(testdata, gunzip, expected, image):
    path = gunzip(image) if image.endswith(".gz") else testdata / "disk" / image
    sections = parse_fls((testdata / "expected" / expected).read_text(encoding="utf-8"))
    assert sections, f"no fls section parsed from {expected}"
    ev = open_evidence(path, "EV1")
    try:
        ours = _listing(ev)
    finally:
        ev.close()
    for offset, lines in sections.items():
        want = regular_files(lines)
        got = ours.get(offset, set())
        assert got == want, (
            f"offset {offset}: missing {sorted(want - got)[:5]}, extra {sorted(got - want)[:5]}"
        )
    # and nothing listed from a file system fls did not list
    assert set(ours) <= set(sections)


def test_volume_slots_match_mmls(testdata):
    """Every table slot of the extended-partition MBR, labelled and sized as mmls shows it."""
    ev = open_evidence(testdata / "disk" / "pytsk" / "tsk_volume_system.raw", "EV1")
    slots = [(v.label, v.offset // SECTOR, v.length // SECTOR, v.description) for v in ev.info.volumes]
    assert slots == [
        ("meta", 0, 1, "Primary Table (#0)"),
        ("unalloc", 0, 1, "Unallocated"),
        ("p1", 1, 350, "Linux (0x83)"),
        ("meta", 351, 2529, "DOS Extended (0x05)"),
        ("meta", 351, 1, "Extended Table (#1)"),
        ("unalloc", 351, 1, "Unallocated"),
        ("p2", 352, 2528, "Linux (0x83)"),
    ]
    p1, p2 = ev.info.volumes[2], ev.info.volumes[6]
    assert p1.fs_type is None and "Cannot determine file system type" in p1.error
    assert p2.fs_type == "ext2" and p2.error is None
    assert any("p1" in w for w in ev.warnings)


def test_gpt_partitions_listed_without_file_systems(gunzip):
    ev = open_evidence(gunzip("dfir_ntfs/gpt-512-3p.raw.gz"), "EV1")
    parts = [v for v in ev.info.volumes if v.label.startswith("p")]
    assert [(v.label, v.offset // SECTOR, v.description) for v in parts] == [
        ("p1", 34, "Linux filesystem"),
        ("p2", 65, "Linux filesystem"),
        ("p3", 129, "EFI System"),
    ]
    assert all(v.fs_type is None and v.error for v in parts)
    assert list(ev.entries()) == []
