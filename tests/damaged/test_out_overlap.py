"""``--out`` must never land inside the evidence, however the path is spelled (#12 item 1).

The overlap is checked on resolved paths (a symlink or ``..`` that leads into the evidence) and
by folder identity (a bind mount of the evidence folder). Every case runs on real folders.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.errors import UsageError
from triage.scan.preflight import check_case_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    src = tmp_path / "evidence"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    return src


def test_out_through_a_symlink_into_the_evidence_is_refused(tmp_path, evidence):
    link = tmp_path / "elsewhere"
    link.symlink_to(evidence)
    with pytest.raises(UsageError, match="inside the evidence"):
        check_case_dir(link / "case", [str(evidence)])


def test_out_through_dotdot_into_the_evidence_is_refused(tmp_path, evidence):
    other = tmp_path / "other"
    other.mkdir()
    link = other / "up"
    link.symlink_to(tmp_path)
    # other/up/.. is tmp_path's parent by name, but other/up/evidence is the evidence itself
    with pytest.raises(UsageError, match="inside the evidence"):
        check_case_dir(Path(f"{link}/evidence/sub/../case"), [str(evidence)])


@contextlib.contextmanager
def bind_mount(source: Path, target: Path):
    target.mkdir()
    proc = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot make a bind mount here: {proc.stderr.strip() or proc.returncode}")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


def test_out_inside_a_bind_mount_of_the_evidence_is_refused(tmp_path, evidence):
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    with (
        bind_mount(evidence, tmp_path / "mnt") as mnt,
        pytest.raises(UsageError, match="inside the evidence"),
    ):
        check_case_dir(mnt / "case", [str(evidence)])


def test_scan_refuses_out_through_a_symlink_and_writes_nothing(tmp_path, evidence):
    link = tmp_path / "elsewhere"
    link.symlink_to(evidence)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "triage",
            "scan",
            str(evidence),
            "--out",
            str(link / "case"),
            "--case-number",
            "C-1",
            "--examiner",
            "J. Doe",
            "--no-evidence-hash",
            "--inventory-only",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2 and "inside the evidence" in proc.stderr, proc.stderr
    assert sorted(p.name for p in evidence.iterdir()) == ["a.txt"]


def test_a_separate_out_folder_is_accepted(tmp_path, evidence):
    check_case_dir(tmp_path / "case", [str(evidence)])
