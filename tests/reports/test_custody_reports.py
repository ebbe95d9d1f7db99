"""Issue 6 writers on a real case store: every format, hostile names, determinism, signing,
tampering, and a real scan with a case file, thumbnails and --verify-after."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from triage.case.store import CaseStore
from triage.errors import ReportError
from triage.hashsets import load_hashset
from triage.records import Match
from triage.reports import FORMAT_NAMES, WRITERS, verify_case, write_reports
from triage.reports.signing import SIGNATURE

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "testdata"
DFXML_NS = "{http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML}"
#: Names that would run script, pull a resource, start a formula or disguise themselves.
MORE_HOSTILE = (
    "<img src=x onerror=\"document.title='PWNED'\">.jpg",
    "<script>document.title='PWNED'</script>.jpg",
    "+cmd|' /C calc'!A0.jpg",
    "-2+3.jpg",
    "@SUM(1+1).jpg",
    "a\\b..\\..\\c.jpg",
    "tab\there\x07bell.jpg",
)
REPORT_FILES = [name for name, _render in WRITERS.values()]


def _hostile_case(make_case, records, folder: Path) -> Path:
    entry, hashes, hashset = records
    case_dir = make_case(folder)
    with CaseStore.open(case_dir) as store:
        ids = store.add_entries([entry(20 + i, n) for i, n in enumerate(MORE_HOSTILE)])
        results = []
        for n, (entry_id, name) in enumerate(zip(ids, MORE_HOSTILE, strict=True)):
            h = hashes(name)
            m = Match("exact", "sha256", 0, hashset, h.sha256 or "", h.sha256 or "", f"H-{n}", "1", name)
            results.append((entry_id, h, [m]))
        store.record_results(results)
    return case_dir


@pytest.fixture
def hostile(tmp_path, make_case, records) -> Path:
    case_dir = _hostile_case(make_case, records, tmp_path / "hostile")
    with CaseStore.open(case_dir) as store:
        write_reports(case_dir, store, FORMAT_NAMES)
    return case_dir


def test_every_format_is_written_with_its_name(hostile):
    names = {p.name for p in hostile.iterdir()}
    assert set(REPORT_FILES) <= names
    assert {
        "report.html",
        "report.json",
        "files.csv",
        "matches.csv",
        "report.pdf",
        "report.dfxml",
        "report.case.jsonld",
        "report.vics.json",
    } <= names
    assert verify_case(hostile).ok


def test_same_store_gives_byte_identical_reports_in_every_format(hostile):
    before = {name: (hostile / name).read_bytes() for name in REPORT_FILES}
    with CaseStore.open(hostile) as store:
        write_reports(hostile, store, FORMAT_NAMES)
        again = {fmt: render(store) for fmt, (_name, render) in WRITERS.items()}
    assert {name: (hostile / name).read_bytes() for name in REPORT_FILES} == before
    assert {WRITERS[f][0]: data for f, data in again.items()} == before


def _csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_neutralises_formulas_and_keeps_names(hostile):
    files, matches = _csv(hostile / "files.csv"), _csv(hostile / "matches.csv")
    assert len(files) == 7 + len(MORE_HOSTILE) and len(matches) == 5 + len(MORE_HOSTILE)
    for row in files + matches:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
            assert "\u202e" not in value and "\x07" not in value
    paths = {r["path"] for r in files}
    assert "/Users/a/\\u202egpj.exe" in paths and "/Users/a/tab\\there\\x07bell.jpg" in paths
    names = {r["name"] for r in matches}
    assert "'+cmd|' /C calc'!A0.jpg" in names and "'-2+3.jpg" in names and "'@SUM(1+1).jpg" in names
    assert b"\r\n" in (hostile / "files.csv").read_bytes()


def test_dfxml_parses_and_lists_every_file_with_digests(hostile):
    root = ET.parse(hostile / "report.dfxml").getroot()
    assert root.tag == f"{DFXML_NS}dfxml"
    objects = root.findall(f"{DFXML_NS}fileobject")
    assert len(objects) == 7 + len(MORE_HOSTILE)
    names = {o.findtext(f"{DFXML_NS}filename") for o in objects}
    assert "Users/a/<script>document.title='PWNED'</script>.jpg" in names
    assert "Users/a/tab\there\\x07bell.jpg" in names  # XML 1.0 cannot hold \x07
    digests = {d.get("type") for o in objects for d in o.findall(f"{DFXML_NS}hashdigest")}
    assert digests == {"md5", "sha1", "sha256"}
    sample = SHARED / "formats" / "dfxml" / "simple.xml"
    if sample.is_file():  # the same element names as a dfxml_python sample
        theirs = {
            c.tag.split("}")[-1]
            for fo in ET.parse(sample).getroot().iter()
            if fo.tag.endswith("fileobject")
            for c in fo
        }
        ours = {c.tag.split("}")[-1] for c in objects[0]}
        assert {"filename", "filesize", "hashdigest", "mtime"} <= theirs & ours


def test_case_uco_validates_with_case_validate(hostile):
    doc = json.loads((hostile / "report.case.jsonld").read_text(encoding="utf-8"))
    types = [n["@type"] for n in doc["@graph"]]
    assert types.count("uco-observable:File") == 1 + 7 + len(MORE_HOSTILE)  # evidence + files
    assert "case-investigation:InvestigativeAction" in types
    here = str(Path(sys.executable).parent)
    validator = shutil.which("case_validate") or shutil.which("case_validate", path=here)
    if validator is None:
        pytest.skip("case_validate (pip install case-utils, the test extra) is not installed")
    run = subprocess.run([validator, str(hostile / "report.case.jsonld")], capture_output=True, text=True)
    assert run.returncode == 0 and "Conforms: True" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]


def test_vics_export_reads_back_with_the_matched_hashes(hostile):
    loaded = load_hashset(hostile / "report.vics.json")
    assert loaded.info.format == "vics"
    known = {(k.algorithm, k.value) for k in loaded.hashes}
    report = json.loads((hostile / "report.json").read_text(encoding="utf-8"))
    for m in report["matches"]:
        assert ("sha256", m["sha256"]) in known and ("md5", m["md5"]) in known
        assert ("pdq", next(f["pdq"] for f in report["files"] if f["location"] == m["location"])) in known


def test_pdf_renders_with_the_case_number(hostile):
    data = (hostile / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(hostile / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Case 2026-<b>042</b>" in text and "page 1 of" in text
    assert "/Users/a/\\u202egpj.exe" in text and "perceptual · PDQ · distance" in text
    assert "12 of 256 bits; threshold 31" in text
    run = subprocess.run(
        [
            "pdftoppm",
            "-r",
            "30",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(hostile / "report.pdf"),
            str(hostile.parent / "page"),
        ],
        capture_output=True,
    )
    assert run.returncode == 0
    with Image.open(hostile.parent / "page-1.png") as page:
        assert page.width > 100 and page.getextrema() != ((255, 255), (255, 255), (255, 255))


def test_html_scripts_cannot_run_in_a_real_browser(hostile, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    html = (hostile / "report.html").read_text(encoding="utf-8")
    assert "document.title=&#39;PWNED&#39;" in html
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            (hostile / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    dom = run.stdout
    assert "<title>Triage report: case 2026-&lt;b&gt;042&lt;/b&gt;</title>" in dom, run.stderr[-2000:]
    assert "PWNED</title>" not in dom
    # Our own pinned script did run (it fills in the count), so the CSP let it and nothing else.
    n = 5 + len(MORE_HOSTILE)
    assert f"{n} of {n} shown" in dom


def _keys(folder: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = folder / "lab.pem", folder / "lab.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    return private, public


def test_signed_case_verifies_and_names_tampering(case_dir, tmp_path):
    private, public = _keys(tmp_path)
    (tmp_path / "other").mkdir()
    _other_private, other_public = _keys(tmp_path / "other")
    with CaseStore.open(case_dir) as store:
        paths = write_reports(case_dir, store, FORMAT_NAMES, sign_key=private)
    assert paths[-1].name == SIGNATURE and len(paths[-1].read_bytes()) == 64
    assert verify_case(case_dir, public).ok
    assert verify_case(case_dir).ok  # without a key the signature is simply not checked
    wrong = verify_case(case_dir, other_public)
    assert not wrong.ok and wrong.problems[0].startswith(f"{SIGNATURE}: does not verify")
    # Re-writing the manifest after a change defeats the manifest, not the signature.
    (case_dir / "report.pdf").write_bytes((case_dir / "report.pdf").read_bytes() + b"\n")
    assert verify_case(case_dir, public).problems == [
        "report.pdf: changed (its SHA-256 differs from MANIFEST.sha256)"
    ]
    from triage.reports.manifest import write_manifest

    write_manifest(case_dir)
    forged = verify_case(case_dir, public)
    assert forged.problems and forged.problems[0].startswith(f"{SIGNATURE}: does not verify")


def test_unsigned_rewrite_of_a_signed_case_is_refused_unless_the_signature_is_dropped(case_dir, tmp_path):
    private, public = _keys(tmp_path)
    with CaseStore.open(case_dir) as store:
        write_reports(case_dir, store, ["json"], sign_key=private)
        signed = {p.name: p.read_bytes() for p in case_dir.iterdir()}
        with pytest.raises(ReportError, match="--drop-signature"):
            write_reports(case_dir, store, ["json"])
        assert {p.name: p.read_bytes() for p in case_dir.iterdir()} == signed  # nothing written
        write_reports(case_dir, store, ["json"], drop_signature=True)
        last = store.audit_events()[-1]
    assert last["action"] == "report written" and last["details"]["signature_removed"] is True
    assert not (case_dir / SIGNATURE).exists()
    assert verify_case(case_dir).ok
    assert verify_case(case_dir, public).problems == [f"{SIGNATURE}: missing (the case folder is not signed)"]


@pytest.mark.parametrize("name", REPORT_FILES)
def test_one_changed_byte_in_any_report_is_named(hostile, name):
    path = hostile / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert verify_case(hostile).problems == [f"{name}: changed (its SHA-256 differs from MANIFEST.sha256)"]


def test_removed_report_is_named(hostile):
    (hostile / "report.vics.json").unlink()
    assert verify_case(hostile).problems == ["report.vics.json: missing (listed in MANIFEST.sha256)"]
