"""NTFS: overwritten MFT records are "unknown", not "deleted" (#12 item 3), and $BadClus:$Bad is
a bad-cluster map, not an error on every volume (#12 item 9). Real mkntfs images."""

from __future__ import annotations

import pytest
from damaged_cases import CORPUS, EXPECTED, case_rows, run_scan

from triage.evidence import open_evidence


def listing(path):
    ev = open_evidence(path, "EV1")
    try:
        return {e.path: e for e in ev.entries()}
    finally:
        ev.close()


def test_files_whose_mft_record_was_overwritten_are_not_called_deleted(damaged):
    entries = listing(damaged("ntfs_mft_overwritten.dd"))
    for name in EXPECTED["ntfs"]["mft_overwritten"]:
        entry = entries[f"/{name}"]
        assert entry.deleted is False  # fls: r/- (allocated name), not "*"
        assert "meta-unreadable" in entry.flags and "no-meta" not in entry.flags
    intact = set(EXPECTED["ntfs"]["files"]) - set(EXPECTED["ntfs"]["mft_overwritten"])
    assert all(not entries[f"/{n}"].deleted and not entries[f"/{n}"].flags for n in intact)


def test_scan_records_an_error_for_each_file_whose_metadata_is_unreadable(damaged, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(damaged("ntfs_mft_overwritten.dd"), out)
    assert proc.returncode == 0, proc.stderr
    rows = case_rows(
        out, "SELECT path, deleted, flags, state FROM entries WHERE flags LIKE '%meta-unreadable%'"
    )
    assert sorted(r["path"] for r in rows) == sorted(f"/{n}" for n in EXPECTED["ntfs"]["mft_overwritten"])
    assert all(r["deleted"] == 0 and r["state"] == 2 for r in rows)
    errors = case_rows(out, "SELECT location, message FROM errors WHERE entry IS NOT NULL")
    assert len(errors) == 2 and all("no metadata" in e["message"] for e in errors)


def test_bad_cluster_map_is_flagged_and_not_an_error(damaged, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(damaged("ntfs.dd"), out)
    assert proc.returncode == 0, proc.stderr
    assert case_rows(out, "SELECT message FROM errors") == []
    (bad,) = case_rows(out, "SELECT flags, sha256 FROM entries WHERE path = '/$BadClus:$Bad'")
    assert "bad-cluster-map" in bad["flags"] and bad["sha256"] is None
    # the other system files ($MFT, $Secure:$SDS, $UpCase ...) are read and hashed as usual
    rows = case_rows(
        out, "SELECT path, sha256 FROM entries WHERE path IN ('/$MFT', '/$Secure:$SDS', '/$UpCase')"
    )
    assert len(rows) == 3 and all(r["sha256"] for r in rows)


def test_windows_made_ntfs_volumes_report_no_errors(tmp_path):
    image = CORPUS / "sleuthkit" / "imageformat_mmls_1.E01"
    if not image.is_file():
        pytest.skip("corpus image sleuthkit/imageformat_mmls_1.E01 absent (../shared/testdata)")
    out = tmp_path / "case"
    proc = run_scan(image, out)
    assert proc.returncode == 0, proc.stderr
    assert [r["message"] for r in case_rows(out, "SELECT message FROM errors")] == []
