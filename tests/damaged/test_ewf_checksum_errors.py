"""#12 item 7: files with bytes in an E01 chunk whose checksum failed are flagged, not "clean".

The E01 is the committed fixture tests/data/mbr_fat_ext2.E01 (deflate-compressed chunks of 32 KiB)
with bytes overwritten inside one chunk's stored data at test time. Before: the scan stored the
files in that chunk as hashed, with the digests of the zeros libewf returned, and no error.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from damaged_support import DATA, make_damaged, run_triage, scan_args

from triage.evidence import open_evidence, read_entry
from triage.evidence.ewf import EwfImgInfo, open_ewf

E01 = DATA / "mbr_fat_ext2.E01"
CHUNK = 12  # ext2 file data only: the listing does not depend on it


def files_in_chunk(chunk: int, chunk_size: int) -> set[str]:
    """Paths of the fixture's files whose content lies in ``chunk`` of the raw image."""
    raw = (DATA / "mbr_fat_ext2.dd").read_bytes()
    found = set()
    ev = open_evidence(DATA / "mbr_fat_ext2.dd", "EV1")
    for entry in ev.entries():
        data = b"".join(read_entry(entry.ref))
        at = raw.find(data)
        assert at >= 0
        if at // chunk_size <= chunk <= (at + len(data) - 1) // chunk_size:
            found.add(entry.path)
    return found


def test_the_binding_reads_libewf_checksum_errors(tmp_path: Path) -> None:
    bad = make_damaged.make_corrupt_e01(tmp_path, E01, CHUNK)
    img = EwfImgInfo(open_ewf((str(bad),)))
    try:
        assert img.checksum_errors.available
        assert img.checksum_errors.ranges() == []  # nothing damaged read yet
        size = 32768
        assert img.read(CHUNK * size, size) == bytes(size)  # libewf gives zeros for the chunk
        assert img.checksum_errors.ranges() == [(CHUNK * size, size)]
    finally:
        img.close()


def test_files_in_the_damaged_chunk_are_flagged_with_an_error(tmp_path: Path) -> None:
    bad = make_damaged.make_corrupt_e01(tmp_path, E01, CHUNK)
    damaged = files_in_chunk(CHUNK, 32768)
    assert damaged  # the fixture has files there
    listing = {e["path"]: e["md5"] for e in json.loads((DATA / "mbr_fat_ext2.json").read_text())["entries"]}
    done = run_triage(*scan_args([str(bad)], tmp_path / "case", "--jobs", "2"))
    assert done.returncode == 0, done.stderr
    note = f"damaged evidence EV1: {len(damaged)} file(s) have bytes in E01 chunks whose checksum failed"
    assert note in done.stderr, done.stderr
    with sqlite3.connect(tmp_path / "case" / "case.sqlite") as conn:
        rows = conn.execute("SELECT path, flags, error, md5 FROM entries").fetchall()
        sql = "SELECT location FROM errors WHERE message LIKE 'checksum-error:%'"
        errors = {r[0] for r in conn.execute(sql)}
    flagged = {path for path, flags, _, _ in rows if "checksum-error" in json.loads(flags)}
    assert flagged == damaged
    for path, _, error, md5 in rows:
        if path in damaged:
            assert error and error.startswith("checksum-error: bytes 0+"), error
        else:  # files outside the chunk are read intact and not flagged
            assert error is None and md5 == listing[path], path
    assert len(errors) == len(damaged)
