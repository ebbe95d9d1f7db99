"""#12 item 11: Pillow warnings with --quiet, the resume refusal's option names, a full disk while
the case is created."""

from __future__ import annotations

import hashlib
import resource
import signal
from pathlib import Path

from damaged_support import DATA, make_damaged, run_triage, scan_args

EVIDENCE = str(DATA / "mbr_fat_ext2.dd")
KNOWN = str(DATA / "hashsets" / "known.csv")


def test_quiet_scan_prints_no_pillow_warning(tmp_path: Path) -> None:
    folder = make_damaged.make_pillow_warning_pictures(tmp_path)
    rows = ["md5,name"] + [
        f"{hashlib.md5(p.read_bytes()).hexdigest()},{p.name}" for p in sorted(folder.iterdir())
    ]
    known = tmp_path / "known.csv"
    known.write_text("\n".join(rows) + "\n")
    done = run_triage(
        *scan_args([str(folder)], tmp_path / "case", "--hashset", str(known), "--quiet", "--jobs", "1")
    )
    assert done.returncode == 1, done.stderr  # both pictures match
    assert "Warning" not in done.stderr and "EXIF" not in done.stderr, done.stderr


def test_resume_refusal_names_options_as_spelt(tmp_path: Path) -> None:
    done = run_triage("scan", "--resume", str(tmp_path), "--hashset", KNOWN, "--ignore-set", KNOWN, EVIDENCE)
    assert done.returncode == 2
    assert "(--hashset, --ignore-set, EVIDENCE)" in done.stderr, done.stderr
    assert "--hashsets" not in done.stderr


def _small_disk() -> None:
    """In the child: files may not grow past 8 KiB, as on a disk that is full (SIGXFSZ ignored so
    the write fails with an error instead of killing the process)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))


def test_full_disk_while_creating_the_case_leaves_nothing(tmp_path: Path) -> None:
    new = tmp_path / "new" / "case"
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (new, empty):
        done = run_triage(*scan_args([EVIDENCE], out, "--hashset", KNOWN), preexec_fn=_small_disk)
        assert done.returncode == 2
        assert "cannot create the case database" in done.stderr, done.stderr
    assert not (tmp_path / "new").exists()  # folders this run made are gone
    assert empty.is_dir() and not any(empty.iterdir())  # the examiner's empty folder stays, empty
