"""examples/batch_scan.sh, run as a lab would: twice into the same folder, with one evidence
item that holds no file at all (an unmounted mount point), on the bundled example evidence."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "examples" / "batch_scan.sh"


@pytest.mark.skipif(not Path("/bin/bash").exists(), reason="needs bash")
def test_batch_runs_again_and_tells_no_files_from_no_match(tmp_path):
    empty = tmp_path / "mnt"
    empty.mkdir()
    known = REPO / "examples" / "known-hashes.csv"
    evidence = REPO / "examples" / "evidence" / "case2"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = ["bash", str(SCRIPT), str(tmp_path / "cases"), str(known), str(evidence), str(empty)]
    runs = [subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300) for _ in range(2)]
    for proc in runs:
        assert proc.returncode == 4, proc.stderr  # one item had no files: the worst news wins
        assert "EV1 " in proc.stdout and ": MATCHES (" in proc.stdout
        assert re.search(r"EV2 .*/mnt: NO FILES FOUND", proc.stderr), proc.stderr
        assert "FAILED" not in proc.stderr
    folders = sorted(p.name for p in (tmp_path / "cases").iterdir())
    assert len(folders) == 2 and folders[0] != folders[1]
    numbers = [
        json.loads((case / "report.json").read_text())["case"]["case_number"]
        for folder in folders
        for case in (tmp_path / "cases" / folder).iterdir()
    ]
    assert len(numbers) == len(set(numbers)) == 4
