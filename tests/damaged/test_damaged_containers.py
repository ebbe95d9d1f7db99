"""Damaged partition tables and containers: what can be read, plus recorded errors; never an
internal error, never a half-made case (#12 items 2a and 4)."""

from __future__ import annotations

from damaged_cases import EXPECTED, case_rows, run_scan

from triage.evidence import open_evidence


def names(ev) -> set[str]:
    return {e.path for e in ev.entries()}


def test_gpt_with_a_damaged_primary_header_is_read_from_its_backup(damaged):
    ev = open_evidence(damaged("gpt_backup_only.dd"), "EV1")
    try:
        found = {(v.label, v.offset, v.fs_type) for v in ev.info.volumes}
        assert ("p1", EXPECTED["gpt"]["partition_offset"], "fat12") in found
        assert {f"/{n}" for n in EXPECTED["gpt"]["files"]} <= names(ev)
        assert any("backup header" in w for w in ev.warnings), ev.warnings
    finally:
        ev.close()


def test_gpt_claiming_two_billion_entries_gives_its_partition_and_warnings(damaged):
    ev = open_evidence(damaged("gpt_huge_count.dd"), "EV1")
    try:
        found = {(v.label, v.offset, v.fs_type) for v in ev.info.volumes}
        assert ("p1", EXPECTED["gpt"]["partition_offset"], "fat12") in found
        assert all(v.offset + min(v.length, 1) <= ev.info.size for v in ev.info.volumes)
        assert {f"/{n}" for n in EXPECTED["gpt"]["files"]} <= names(ev)
        assert any("past the end of the image" in w for w in ev.warnings), ev.warnings
    finally:
        ev.close()


def test_scan_of_the_huge_gpt_finishes_with_recorded_errors(damaged, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(damaged("gpt_huge_count.dd"), out)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr
    errors = [r["message"] for r in case_rows(out, "SELECT message FROM errors WHERE entry IS NULL")]
    assert any("past the end of the image" in m for m in errors), errors


def test_half_a_vmdk_is_listed_as_far_as_it_goes_with_the_damage_recorded(cut_corpus, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(cut_corpus("dfvfs/ext2.vmdk"), out)
    assert "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    errors = [r["message"] for r in case_rows(out, "SELECT message FROM errors WHERE entry IS NULL")]
    assert any("VMDK image unreadable" in m for m in errors), errors


def test_half_a_qcow2_is_refused_in_one_line_before_any_case_is_made(cut_corpus, tmp_path):
    out = tmp_path / "case"
    proc = run_scan(cut_corpus("dfvfs/ext2.qcow2"), out)
    assert proc.returncode == 2 and "internal error" not in proc.stderr, proc.stderr
    assert "QCOW image" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()
