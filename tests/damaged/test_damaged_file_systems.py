"""Damaged file systems: files no folder reaches are found, and damage is said, in the case and
on stderr, so no one reads a damaged disk as an empty one (#12 item 2). Real mkfs-made images
broken at a known place (tests/data/make_damaged_images.py)."""

from __future__ import annotations

import gzip
import random

import pytest
from damaged_cases import CORPUS, EXPECTED, case_rows, run_scan

from triage.evidence import open_evidence, read_entry


def content(name: str, size: int) -> bytes:
    return random.Random(name).randbytes(size)  # as make_damaged_images.content


def listing(path):
    ev = open_evidence(path, "EV1")
    try:
        return [e for e in ev.entries()], list(ev.warnings)
    finally:
        ev.close()


@pytest.mark.parametrize(
    ("image", "found"),
    [
        # the root folder's cluster held ROOT1.TXT's entry: that name is gone for good
        ("fat32_root_overwritten", ["DIR/A.BIN", "DIR/B.BIN", "DIR/SUB/C.BIN"]),
        ("ext4_root_overwritten", ["docs/a.bin", "docs/b.bin", "docs/deep/c.bin", "top.bin"]),
    ],
)
def test_files_behind_an_overwritten_root_folder_are_found_as_orphans(damaged, image, found):
    entries, warnings = listing(damaged(f"{image}.dd"))
    files = EXPECTED[image]["files"]
    by_content = {}
    for e in entries:
        assert "orphan" in e.flags and e.path.startswith("/$OrphanFiles/") and not e.deleted
        by_content[b"".join(read_entry(e.ref))] = e.path
    for name in found:
        path = by_content.get(content(name, files[name]))
        assert path is not None, f"{name} not found; listed: {sorted(by_content.values())}"
        if "/" in name:  # below the recovered top folder the names are kept
            assert path.endswith("/" + name.split("/", 1)[1]), path
    assert any(w.startswith("damaged: ") and "looks damaged" in w for w in warnings), warnings


def test_ntfs_whose_root_record_is_overwritten_lists_its_files_from_the_mft(damaged):
    entries, warnings = listing(damaged("ntfs_root_overwritten.dd"))
    paths = {e.path: e for e in entries}
    for name, size in EXPECTED["ntfs"]["files"].items():
        entry = paths[f"/$OrphanFiles/{name}"]  # the parent record is the root: the path is whole
        assert "orphan" in entry.flags and not entry.deleted
        assert b"".join(read_entry(entry.ref)) == content(name, size)
    assert "bad-cluster-map" in paths["/$OrphanFiles/$BadClus:$Bad"].flags
    assert any(w.startswith("damaged: ") and "MFT records" in w for w in warnings), warnings


def test_scan_of_a_cut_short_ntfs_says_so_in_the_case_and_on_stderr(damaged, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(damaged("ntfs_half.dd"), out)
    assert proc.returncode == 0, proc.stderr
    assert "damaged evidence EV1" in proc.stderr and "cut short" in proc.stderr
    (vol,) = case_rows(out, "SELECT fs_type, error FROM volumes")
    assert vol["fs_type"] == "ntfs" and "cut short" in vol["error"]
    errors = [r["message"] for r in case_rows(out, "SELECT message FROM errors WHERE entry IS NULL")]
    assert any("cut short" in m for m in errors), errors
    assert "cut short" in (out / "report.html").read_text()


def test_ntfs_cut_before_its_mft_is_named_as_a_cut_short_ntfs_in_one_line(damaged, tmp_path):
    whole = damaged("ntfs.dd")
    cut = tmp_path / "cut.dd"
    cut.write_bytes(whole.read_bytes()[: 64 * 1024])  # the MFT starts at 16 KiB; cut here TSK cannot open it
    out = tmp_path / "case"
    proc = run_scan(cut, out)
    assert proc.returncode == 2 and "internal error" not in proc.stderr, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "damaged disk image" in line and "NTFS" in line and "cut short" in line
    assert not out.exists()


def test_scan_of_an_overwritten_root_folder_says_so_on_stderr(damaged, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(damaged("ext4_root_overwritten.dd"), out)
    assert proc.returncode == 0, proc.stderr
    assert "damaged evidence EV1" in proc.stderr and "looks damaged" in proc.stderr
    hashed = case_rows(out, "SELECT path FROM entries WHERE sha256 IS NOT NULL")
    assert len(hashed) == 4


def test_healthy_ext4_full_of_symbolic_links_is_not_called_damaged(damaged):
    entries, warnings = listing(damaged("ext4_symlinks.dd"))
    assert [e.path for e in entries] == ["/f.txt"]
    assert not [w for w in warnings if w.startswith("damaged: ")], warnings


CORPUS_HEALTHY = ["fat12", "fat16", "fat32_small", "fat32_loop", "fat_deleted_dir_2", "exfat_win"]


@pytest.mark.parametrize("name", CORPUS_HEALTHY)
def test_healthy_corpus_file_systems_are_not_called_damaged(tmp_path, name):
    src = CORPUS / "dfir_ntfs" / f"{name}.raw.gz"
    if not src.is_file():
        pytest.skip(f"corpus image {src.name} absent (../shared/testdata)")
    image = tmp_path / f"{name}.raw"
    image.write_bytes(gzip.decompress(src.read_bytes()))
    entries, warnings = listing(image)
    assert not [w for w in warnings if w.startswith("damaged: ")]
    assert not [e for e in entries if "/OrphanFolder-" in e.path]
