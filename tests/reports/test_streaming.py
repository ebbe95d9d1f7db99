"""report.json, files.csv and matches.csv are written as a stream of chunks from the store's
cursors, with exactly the bytes of the whole document built in memory."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from triage.case.store import CaseStore
from triage.records import CaseInfo, EvidenceInfo, FileHashes, Match
from triage.reports import WRITERS, csv_report, json_report, verify_case, write_reports

STREAMED = {"json": json_report.render_chunks, "csv-files": csv_report.render_files_chunks,
            "csv-matches": csv_report.render_matches_chunks}  # fmt: skip
MANY = 400  # enough rows for report.json and files.csv to take several 64 KiB chunks


def _whole_json(store: CaseStore) -> bytes:
    """The reference: json.dumps of the whole report model at once."""
    return json_report.dumps_report(json_report.build_report(store))


def _grow(case_dir: Path, records, n: int = MANY) -> Path:
    """Add ``n`` more files with hostile names: every tenth matched, every seventh failed."""
    entry, hashes, hashset = records
    names = [f"bulk {i} \u202e=cmd|'/c'!A1\n<b>\udcfe\"\\.jpg" for i in range(n)]
    with CaseStore.open(case_dir) as store:
        ids = store.add_entries(entry(10 + i, name, deleted=i % 3 == 0) for i, name in enumerate(names))
        results = []
        for i, (entry_id, name) in enumerate(zip(ids, names, strict=True)):
            h = hashes(name)
            md5 = h.md5 or ""
            if i % 7 == 0:
                h = FileHashes(size_read=5, md5=md5, error=f"picture decode failed: <{i}>\n")
            found = [Match("exact", "md5", 0, hashset, md5, md5, f"K{i}", "2", f"=n\u202e{i}")]
            results.append((entry_id, h, found if i % 10 == 0 else []))
        store.record_results(results)
    return case_dir


@pytest.fixture
def big_case(case_dir: Path, records) -> Path:
    return _grow(case_dir, records)


def test_streamed_json_equals_the_whole_document(big_case):
    with CaseStore.open(big_case, read_only=True) as store:
        chunks = list(json_report.render_chunks(store))
        assert len(chunks) > 3 and all(chunks)
        assert b"".join(chunks) == _whole_json(store) == json_report.render(store)


def test_chunk_size_does_not_change_the_bytes(big_case, monkeypatch):
    with CaseStore.open(big_case, read_only=True) as store:
        before = {fmt: b"".join(stream(store)) for fmt, stream in STREAMED.items()}
        monkeypatch.setattr(json_report, "CHUNK", 7)
        monkeypatch.setattr(csv_report, "CHUNK", 7)
        small = {fmt: list(stream(store)) for fmt, stream in STREAMED.items()}
    assert {fmt: b"".join(chunks) for fmt, chunks in small.items()} == before
    assert len(small["csv-files"]) == 1 + MANY + 7  # the BOM, then one per row (the first with the header)
    assert all(c.endswith(b"\r\n") for c in small["csv-files"][1:])  # chunks end at a row's end
    assert all(small["json"]) and len(small["json"]) > MANY + 7  # one or more per file


def test_streamed_csv_holds_every_row(big_case):
    with CaseStore.open(big_case, read_only=True) as store:
        files = b"".join(csv_report.render_files_chunks(store))
        matches = b"".join(csv_report.render_matches_chunks(store))
        summary = store.summary()
    assert files.startswith(csv_report.BOM) and matches.startswith(csv_report.BOM)
    rows = list(csv.reader(io.StringIO(files[3:].decode("utf-8"), newline="")))
    assert rows[0] == list(json_report.FILE_FIELDS) and len(rows) == 1 + summary["files"]
    assert all(not r[2].startswith("=") for r in rows[1:])  # paths start with "/": stay inert anyway
    rows = list(csv.reader(io.StringIO(matches[3:].decode("utf-8"), newline="")))
    assert rows[0] == list(json_report.MATCH_FIELDS) and len(rows) == 1 + summary["matches"]


@pytest.mark.parametrize("with_entries", [False, True])
def test_empty_arrays_are_written_as_json_dumps_writes_them(tmp_path, records, with_entries):
    store = CaseStore.create(tmp_path / "case", CaseInfo("C-1", "Ex", None, None), command_line=[], tool={})
    if with_entries:  # files but no matches, conflicts or errors
        entry, _hashes, _set = records
        store.add_evidence(EvidenceInfo("EV1", "/e.dd", "raw", 10, ("/e.dd",)))
        store.add_entries([entry(0, "a.jpg"), entry(1, "b\udcff.jpg")])
    with store:
        data = json_report.render(store)
        assert data == _whole_json(store)
    assert b'  "matches": [],\n  "conflicts": [],\n  "errors": []\n}\n' in data
    assert (b'  "files": [],\n' in data) is not with_entries


def test_write_reports_streams_and_a_failure_part_way_leaves_nothing(case_dir, monkeypatch):
    class HalfWay:
        """A renderer whose stream breaks after its first chunk (a writer's bug, a vanished store)."""

        def __call__(self, store):
            raise AssertionError("write_reports must take the stream, not the whole report")

        def chunks(self, store):
            yield b"<dfxml>"
            raise RuntimeError("cursor gone")

    monkeypatch.setitem(WRITERS, "dfxml", ("report.dfxml", HalfWay()))
    with CaseStore.open(case_dir) as store:
        with pytest.raises(Exception, match=r"report\.dfxml: RuntimeError: cursor gone"):
            write_reports(case_dir, store, ("json", "dfxml", "csv"))
        assert (case_dir / "report.json").read_bytes() == WRITERS["json"][1](store)
        assert (case_dir / "files.csv").read_bytes() == WRITERS["csv-files"][1](store)
    assert not (case_dir / "report.dfxml").exists() and not (case_dir / ".report.dfxml.tmp").exists()
    assert verify_case(case_dir).ok
