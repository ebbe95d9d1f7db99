"""#12 item 5: a FIFO or ``<(cat set.csv)`` given as a hash set, index, key or case file.

Before: ``open()`` on a FIFO without a writer waited for ever, and a pipe was read once to sniff
it and then found empty ("no hashes found"). Now anything that is not a regular file is refused
in one line (exit 2) before it is opened.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from damaged_support import DATA, run_triage, scan_args

from triage.errors import HashSetError
from triage.hashsets import load_hashset

EVIDENCE = str(DATA / "mbr_fat_ext2.dd")
KNOWN = DATA / "hashsets" / "known.csv"


@pytest.mark.parametrize("option", ["--hashset", "--ignore-set"])
def test_fifo_hash_set_is_refused_without_waiting(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "set.csv"
    os.mkfifo(fifo)
    done = run_triage(*scan_args([EVIDENCE], tmp_path / "case", option, str(fifo)), timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is a pipe" in lines[0] and str(fifo) in lines[0], done.stderr
    assert not (tmp_path / "case" / "case.sqlite").exists()


def test_process_substitution_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    """``--hashset <(cat known.csv)``: the shell passes /dev/fd/N, a pipe with a writer."""
    read_end, write_end = os.pipe()
    writer = subprocess.Popen(["cat", str(KNOWN)], stdout=write_end)
    os.close(write_end)
    try:
        args = scan_args([EVIDENCE], tmp_path / "case", "--hashset", f"/dev/fd/{read_end}")
        done = run_triage(*args, timeout=60, pass_fds=(read_end,))
    finally:
        os.close(read_end)
        writer.wait(timeout=30)
    assert done.returncode == 2
    assert "is a pipe" in done.stderr and "no hashes found" not in done.stderr, done.stderr


def test_library_refuses_a_fifo_and_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(HashSetError, match="is a pipe"):
        load_hashset(fifo)
    with pytest.raises(HashSetError, match="is a character device"):
        load_hashset("/dev/null")


@pytest.mark.parametrize("option", ["--sign", "--case-file"])
def test_fifo_key_and_case_file_are_refused(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    args = scan_args([EVIDENCE], tmp_path / "case", "--hashset", str(KNOWN), option, str(fifo))
    done = run_triage(*args, timeout=60)
    assert done.returncode == 2 and "is a pipe" in done.stderr, done.stderr


def test_fifo_given_to_hashset_build_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "set.csv"
    os.mkfifo(fifo)
    done = run_triage("hashset", "build", str(fifo), "-o", str(tmp_path / "x.idx"), timeout=60)
    assert done.returncode == 2 and "is a pipe" in done.stderr, done.stderr


def test_fifo_given_to_hashset_info_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "sets.idx"
    os.mkfifo(fifo)
    done = run_triage("hashset", "info", str(fifo), timeout=60)
    assert done.returncode == 2 and "is a pipe" in done.stderr, done.stderr
