"""``triage scan`` with a case file, thumbnails, --verify-after and --sign on the bundled example
(a real FAT disk image and a folder), then ``triage report`` and ``triage verify --public-key``."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from triage.cli.custody import load_case_file
from triage.errors import UsageError

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CASE_TOML = """\
case_number = "C-2026-077"
examiner = "J. Doe"
agency = "Example Lab"
notes = "Seized under warrant 123."

[[evidence]]
id = "DISK1"
description = "FAT disk image, exhibit bag 44"

[[evidence]]
id = "DIR1"
description = "Copied folder"
"""


def triage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "triage", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _keys(folder: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = folder / "lab.pem", folder / "lab.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _scan(tmp_path: Path, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    return triage(
        "scan",
        str(EXAMPLES / "evidence" / "case1.dd"),
        str(EXAMPLES / "evidence" / "case2"),
        "--hashset",
        str(EXAMPLES / "known-hashes.csv"),
        "--out",
        str(tmp_path / out),
        "--case-file",
        str(tmp_path / "case.toml"),
        "--jobs",
        "2",
        "--quiet",
        *extra,
    )


def test_scan_with_case_file_thumbnails_verify_after_and_signature(tmp_path):
    private, public = _keys(tmp_path)
    run = _scan(
        tmp_path,
        "case",
        "--verify-after",
        "--sign",
        str(private),
        "--format",
        "html,json",
        "--format",
        "csv,vics",
    )
    assert run.returncode == 1, run.stderr  # the example holds known pictures
    case = tmp_path / "case"
    assert {
        "report.html",
        "report.json",
        "files.csv",
        "matches.csv",
        "report.vics.json",
        "MANIFEST.sha256.sig",
    } <= {p.name for p in case.iterdir()}
    report = json.loads((case / "report.json").read_text(encoding="utf-8"))
    assert report["case"]["case_number"] == "C-2026-077" and report["case"]["agency"] == "Example Lab"
    disk, folder = report["evidence"]
    assert (disk["id"], disk["description"]) == ("DISK1", "FAT disk image, exhibit bag 44")
    assert disk["verification"] == "none stored" and len(disk["sha256"]) == 64  # a raw image's own hashes
    after = disk["verified_after"]
    assert after["result"] == "unchanged" and after["sha256"] == disk["sha256"]
    assert folder["verified_after"] is None and folder["description"] == "Copied folder"
    assert report["settings"]["thumbnails"]["policy"] == "blurred"
    stages = {s["name"] for s in report["stages"]}
    assert stages >= {"listing", "hashing", "thumbnails", "verify-after", "scan"}
    with sqlite3.connect(case / "case.sqlite") as db:
        thumbs = db.execute("SELECT mode, jpeg FROM thumbnails").fetchall()
    assert len(thumbs) == report["summary"]["matched_files"] == 3
    for mode, jpeg in thumbs:
        with Image.open(io.BytesIO(jpeg)) as im:
            assert mode == "blurred" and im.mode == "L" and max(im.size) <= 160  # greyscale when stored
    html = (case / "report.html").read_text(encoding="utf-8")
    assert html.count('<details class="thumb"><summary>') == 3 and html.count("data:image/jpeg;base64,") == 3
    verify = triage("verify", str(case), "--public-key", str(public))
    assert verify.returncode == 0 and "signature verified" in verify.stdout, verify.stderr
    (case / "report.html").write_text(html.replace("C-2026-077", "C-2026-078"), encoding="utf-8")
    verify = triage("verify", str(case), "--public-key", str(public))
    assert verify.returncode == 3 and "report.html: changed" in verify.stderr


def test_thumbnails_none_stores_nothing_and_report_renders_pdf(tmp_path):
    run = _scan(tmp_path, "case", "--thumbnails", "none", "--format", "json")
    assert run.returncode == 1, run.stderr
    with sqlite3.connect(tmp_path / "case" / "case.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM thumbnails").fetchone() == (0,)
    report = triage("report", str(tmp_path / "case"), "--format", "pdf,dfxml,case")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "case" / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert triage("verify", str(tmp_path / "case")).returncode == 0


def test_case_file_and_options_must_agree(tmp_path):
    run = _scan(tmp_path, "case", "--examiner", "Someone Else")
    assert run.returncode == 2 and "disagrees with the case file" in run.stderr
    assert not (tmp_path / "case").exists()
    bad = _scan(tmp_path, "case2", "--format", "docx")
    assert bad.returncode == 2 and "docx" in bad.stderr


def test_case_file_errors_name_the_file(tmp_path):
    path = tmp_path / "case.toml"
    path.write_text('case_number = "X"\nexaminer = 3.5\n', encoding="utf-8")
    with pytest.raises(UsageError, match="examiner must be text"):
        load_case_file(path)
    path.write_text('case_number = "X"\nwitness = "Y"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="unknown key 'witness'"):
        load_case_file(path)
