"""#12 item 8: the audit log commits to the findings; a re-render never drops a signature silently.

Before: delete a match row with sqlite3, run ``triage report``, and ``triage verify`` said
"intact"; ``triage report`` on a signed case removed ``MANIFEST.sha256.sig`` without a word.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from damaged_support import DATA, run_triage, scan_args

from triage.case.store import CaseStore

EVIDENCE = str(DATA / "mbr_fat_ext2.dd")
LISTING = json.loads((DATA / "mbr_fat_ext2.json").read_text())


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished case of the fixture disk with matches (every listed file's MD5 is known)."""
    root = tmp_path_factory.mktemp("digest")
    known = root / "known.csv"
    md5s = sorted({e["md5"] for e in LISTING["entries"] if e.get("md5")})
    known.write_text("md5\n" + "\n".join(md5s) + "\n")
    done = run_triage(*scan_args([EVIDENCE], root / "case", "--hashset", str(known), "--jobs", "1"))
    assert done.returncode == 1, done.stderr
    return root / "case"


def copy_case(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_scan_finished_records_the_findings_digest(scanned: Path) -> None:
    with CaseStore.open(scanned, read_only=True) as store:
        recorded = store.recorded_findings()
        assert recorded is not None and recorded == store.findings_digest()
    assert recorded["matches"]["rows"] > 0 and recorded["files"]["rows"] > 0
    done = run_triage("verify", str(scanned))
    assert done.returncode == 0 and "findings digest verified" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("DELETE FROM matches WHERE id = (SELECT MIN(id) FROM matches)", "matches"),
        ("UPDATE entries SET deleted = 1 - deleted WHERE id = (SELECT MAX(id) FROM entries)", "entries"),
        ("INSERT INTO errors (message) VALUES ('planted')", "errors"),
    ],
)
def test_a_database_edit_then_a_re_render_is_named_by_verify(
    scanned: Path, tmp_path: Path, sql: str, table: str
) -> None:
    case = copy_case(scanned, tmp_path / "case")
    with sqlite3.connect(case / "case.sqlite") as conn:
        conn.execute(sql)
    done = run_triage("report", str(case))
    assert done.returncode == 0, done.stderr
    done = run_triage("verify", str(case))
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"the {table} table differs from the digest the audit log recorded" in done.stderr, done.stderr


def test_report_on_a_signed_case_refuses_or_drops_on_request(scanned: Path, tmp_path: Path) -> None:
    case = copy_case(scanned, tmp_path / "case")
    key = tmp_path / "key.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    assert run_triage("report", str(case), "--sign", str(key)).returncode == 0
    signature = case / "MANIFEST.sha256.sig"
    assert signature.is_file()
    done = run_triage("report", str(case))
    assert done.returncode == 2 and "--drop-signature" in done.stderr, done.stderr
    assert signature.is_file()
    done = run_triage("report", str(case), "--drop-signature")
    assert done.returncode == 0, done.stderr
    assert not signature.exists()
    last = json.loads((case / "audit.jsonl").read_text().splitlines()[-1])
    assert last["action"] == "report written" and last["details"]["signature_removed"] is True
    assert run_triage("verify", str(case)).returncode == 0
