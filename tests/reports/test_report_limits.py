"""A report writer never leaves the case without its other reports and its manifest."""

import pytest

from triage.case.store import CaseStore
from triage.errors import ReportError
from triage.locator import Location, Volume
from triage.records import Entry, EntryRef, FileHashes, Match, SourceSpec
from triage.reports import WRITERS, verify_case, write_reports
from triage.reports.pdf_layout import MAX_CELL, text

HASHSET = "/sets/known.csv"


def test_a_very_long_name_fits_a_pdf_cell(make_case, tmp_path):
    case_dir = make_case(tmp_path / "case")
    long_name = "x" * 5000 + ".jpg"
    with CaseStore.open(case_dir) as store:
        volume = Volume("p1", 1048576, "ntfs")
        ref = EntryRef(SourceSpec("raw", ("/evidence/disk.dd",)), volume_offset=volume.offset, inode=90)
        e = Entry("EV1", Location("EV1", volume, "/" + long_name, "90"), "/" + long_name, 10, False, ref)
        (entry_id,) = store.add_entries([e])
        h = FileHashes(size_read=1, md5="a" * 32, sha256="b" * 64)
        store.record_results([(entry_id, h, [Match("exact", "md5", 0, HASHSET, "a" * 32, "a" * 32, "K-9")])])
        paths = write_reports(case_dir, store, ("pdf", "json"))
    assert (case_dir / "report.pdf").read_bytes().startswith(b"%PDF")
    assert [p.name for p in paths][-1] == "MANIFEST.sha256"
    assert len(text(long_name)) < MAX_CELL + 100


def test_a_failing_writer_is_named_and_the_rest_is_written(make_case, tmp_path, monkeypatch):
    case_dir = make_case(tmp_path / "case")

    def broken(store):
        raise RuntimeError("writer bug")

    monkeypatch.setitem(WRITERS, "dfxml", ("report.dfxml", broken))
    with CaseStore.open(case_dir) as store, pytest.raises(ReportError, match=r"report\.dfxml"):
        write_reports(case_dir, store, ("json", "dfxml", "html"))
    assert (case_dir / "report.json").exists() and (case_dir / "report.html").exists()
    assert not (case_dir / "report.dfxml").exists()
    assert verify_case(case_dir).ok  # the manifest covers what was written
