"""``triage scan`` end to end, through the real command line, on real images and hash sets.

The fixture disk (tests/data/mbr_fat_ext2.dd, made by tests/data/make_disk_fixtures.py) has an MBR
with a FAT12 and an ext2 partition, pictures (one deleted, one renamed ``.dat``) and text files;
``mbr_fat_ext2.json`` lists every file with its MD5. The E01 was acquired from that raw image.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from triage.evidence import open_evidence, read_entry
from triage.hashing.file import hash_chunks

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
TESTDATA = REPO / ".." / "shared" / "testdata"
LISTING = json.loads((DATA / "mbr_fat_ext2.json").read_text())


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "triage", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def scan(evidence: list[str], out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        "scan",
        *evidence,
        "--out",
        str(out),
        "--case-number",
        "C-2026-001",
        "--examiner",
        "J. Doe",
        "--jobs",
        "2",
        *extra,
        *(() if "--hashset" in extra else ("--inventory-only",)),
    )


def md5_of(path: str) -> str:
    return next(e["md5"] for e in LISTING["entries"] if e["path"] == path)


@pytest.fixture(scope="module")
def known_set(tmp_path_factory) -> Path:
    """A CSV set: the deleted picture by MD5, a renamed picture by MD5, and the PDQ of a
    resized, recompressed copy of /photos/blue.jpg (a near copy, not the same bytes)."""
    ev = open_evidence(DATA / "mbr_fat_ext2.dd", "EV1")
    blue = next(e for e in ev.entries() if e.path == "/photos/blue.jpg")
    data = b"".join(read_entry(blue.ref))
    ev.close()
    img = Image.open(io.BytesIO(data)).convert("RGB")
    buf = io.BytesIO()
    img.resize((img.width * 2, img.height * 2)).save(buf, "JPEG", quality=60)
    near = hash_chunks([buf.getvalue()])
    assert near.pdq and near.sha256 != hash_chunks([data]).sha256
    path = tmp_path_factory.mktemp("sets") / "known.csv"
    path.write_text(
        "id,category,md5,pdq\n"
        f"K-1,1,{md5_of('/DCIM/_ONE.JPG')},\n"
        f"K-2,2,{md5_of('/photos/renamed.dat')},\n"
        f"K-3,1,,{near.pdq}\n"
    )
    return path


@pytest.fixture(scope="module")
def raw_case(tmp_path_factory, known_set) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("raw") / "case"
    return out, scan([str(DATA / "mbr_fat_ext2.dd")], out, "--hashset", str(known_set), "--pdq-quality", "0")


def test_raw_image_scan_finds_every_file_and_the_matches(raw_case):
    out, proc = raw_case
    assert proc.returncode == 1, proc.stderr  # finished with matches
    report = json.loads((out / "report.json").read_text())
    files = {(f["location"].split("/")[1].split("@")[0], f["path"]): f for f in report["files"]}
    expected = {(e["volume"], e["path"]): e for e in LISTING["entries"]}
    assert set(files) == set(expected)
    for key, e in expected.items():
        assert files[key]["md5"] == e["md5"], key
        assert files[key]["deleted"] == e["deleted"], key
    assert files[("p2", "/photos/renamed.dat")]["media_type"] == "image/jpeg"  # by content, not name
    assert files[("p2", "/photos/notes.txt")]["media_type"] is None
    assert files[("p2", "/photos/blue.jpg")]["pdq"] and files[("p2", "/photos/blue.jpg")]["phash"]
    by_entry = {m["entry_id"]: m for m in report["matches"]}
    assert set(by_entry) == {"K-1", "K-2", "K-3"}
    assert by_entry["K-1"]["deleted"] is True and by_entry["K-1"]["kind"] == "exact"
    assert by_entry["K-1"]["location"].startswith("EV1/p1@32768(fat12)/DCIM/_ONE.JPG#")
    assert by_entry["K-3"]["kind"] == "perceptual" and by_entry["K-3"]["algorithm"] == "pdq"
    assert 0 < by_entry["K-3"]["distance"] <= 31
    assert report["evidence"][0]["md5"] == LISTING["md5"]
    assert report["evidence"][0]["verification"] == "none stored"
    assert [v["label"] for v in report["evidence"][0]["volumes"] if v["fs_type"]] == ["p1", "p2"]
    assert report["summary"]["matches"] == 3 and report["summary"]["errors"] == 0
    assert "3 matches" in proc.stdout


def test_case_folder_verifies_and_reports_rerender_identically(raw_case):
    out, _ = raw_case
    assert run("verify", str(out)).returncode == 0
    before = {n: (out / n).read_bytes() for n in ("report.json", "report.html")}
    proc = run("report", str(out))
    assert proc.returncode == 0, proc.stderr
    assert {n: (out / n).read_bytes() for n in before} == before
    assert run("verify", str(out)).returncode == 0
    manifest = (out / "MANIFEST.sha256").read_text()
    assert "report.html" in manifest and "case.sqlite" in manifest and "audit.jsonl" in manifest


def test_tampering_is_caught_by_verify(raw_case, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(raw_case[0], out)
    html = out / "report.html"
    html.write_bytes(html.read_bytes().replace(b"K-1", b"K-9", 1))
    proc = run("verify", str(out))
    assert proc.returncode == 3
    assert "report.html" in proc.stderr


def test_e01_of_the_same_disk_gives_the_same_files_and_verifies(raw_case, known_set, tmp_path):
    out = tmp_path / "case"
    proc = scan([str(DATA / "mbr_fat_ext2.E01")], out, "--hashset", str(known_set), "--pdq-quality", "0")
    assert proc.returncode == 1, proc.stderr
    e01 = json.loads((out / "report.json").read_text())
    raw = json.loads((raw_case[0] / "report.json").read_text())
    strip = lambda r: [{k: v for k, v in f.items() if k != "ctime"} for f in r["files"]]  # noqa: E731
    assert strip(e01) == strip(raw)
    assert e01["matches"] == raw["matches"]
    ev = e01["evidence"][0]
    assert ev["kind"] == "ewf" and ev["verification"] == "verified"
    assert ev["md5"] == ev["stored_md5"] == LISTING["md5"]


def test_same_input_gives_the_same_report_content(raw_case, known_set, tmp_path):
    out = tmp_path / "again"
    scan([str(DATA / "mbr_fat_ext2.dd")], out, "--hashset", str(known_set), "--pdq-quality", "0")
    first = json.loads((raw_case[0] / "report.json").read_text())
    second = json.loads((out / "report.json").read_text())
    for key in ("files", "matches", "errors", "summary", "evidence", "hashsets", "case"):
        assert first[key] == second[key], key


def test_media_only_skips_other_files(tmp_path):
    out = tmp_path / "case"
    proc = scan([str(DATA / "mbr_fat_ext2.dd")], out, "--media-only", "--no-evidence-hash")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    files = {f["path"]: f for f in report["files"]}
    assert files["/photos/notes.txt"]["md5"] is None
    assert files["/photos/renamed.dat"]["md5"] == md5_of("/photos/renamed.dat")
    assert report["evidence"][0]["verification"] == "not computed"


def test_folder_with_a_corrupt_picture_and_hostile_names(tmp_path):
    src = tmp_path / "evidence"
    src.mkdir()
    good = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(good, "JPEG")
    (src / "good.jpg").write_bytes(good.getvalue())
    (src / "broken.jpg").write_bytes(good.getvalue()[:200])  # truncated: the decoder fails
    hostile = '<img src=x onerror=alert(1)>=HYPERLINK("x")\u202egpj.jpg'
    (src / hostile).write_bytes(good.getvalue())
    out = tmp_path / "case"
    proc = scan([str(src)], out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    files = {f["path"]: f for f in report["files"]}
    broken = files["/broken.jpg"]
    assert broken["md5"] and broken["error"] and "\n" not in broken["error"]
    assert report["summary"]["errors"] == 1
    assert files["/" + hostile]["md5"] == files["/good.jpg"]["md5"]
    html = (out / "report.html").read_text()
    assert "<img src=x" not in html and "\u202e" not in html


@pytest.mark.parametrize(
    "evidence, hashset_text, message",
    [
        ("missing.dd", None, "missing.dd"),
        ("bogus", None, "not a recognised"),
        ("tests/data/mbr_fat_ext2.dd", "d41d8cd98f00b204e9800998ecf8427e\nnot-a-hash\n", "line 2"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_case(tmp_path, evidence, hashset_text, message):
    if evidence == "bogus":
        if not (TESTDATA / "disk" / "dfvfs" / "bogus.001").exists():
            pytest.skip("shared conformance corpus (<repo>/../shared/testdata) is absent")
        evidence = str(TESTDATA / "disk" / "dfvfs" / "bogus.001")
    elif evidence != "missing.dd":
        evidence = str(REPO / evidence)
    extra = []
    if hashset_text is not None:
        hs = tmp_path / "bad.txt"
        hs.write_text(hashset_text)
        extra = ["--hashset", str(hs)]
    out = tmp_path / "case"
    proc = scan([str(tmp_path / evidence) if evidence == "missing.dd" else evidence], out, *extra)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("triage: error:") and message in lines[0], proc.stderr
    assert not out.exists()


def test_truncated_e01_fails_cleanly(tmp_path):
    data = (DATA / "mbr_fat_ext2.E01").read_bytes()
    bad = tmp_path / "cut.E01"
    bad.write_bytes(data[: len(data) // 2])
    proc = scan([str(bad)], tmp_path / "case")
    assert proc.returncode == 2
    assert proc.stderr.startswith("triage: error:") and len(proc.stderr.strip().splitlines()) == 1


def test_existing_case_is_never_overwritten(raw_case):
    out, _ = raw_case
    before = (out / "case.sqlite").read_bytes()
    proc = scan([str(DATA / "mbr_fat_ext2.dd")], out)
    assert proc.returncode == 2 and "case" in proc.stderr
    assert (out / "case.sqlite").read_bytes() == before


def test_version_and_every_command_has_help_with_an_example():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("triage ")
    for command in (
        [],
        ["scan"],
        ["report"],
        ["verify"],
        ["hashset"],
        ["hashset", "build"],
        ["hashset", "info"],
    ):
        proc = run(*command, "--help")
        assert proc.returncode == 0 and "Example" in proc.stdout, command


def test_scan_help_groups_its_options_and_marks_the_required_ones():
    out = run("scan", "--help").stdout
    sections = ["Evidence:", "Hash sets and matching:", "Output and custody:", "Performance:"]
    assert [out.index(s) for s in sections] == sorted(out.index(s) for s in sections)
    between = out.split("Hash sets and matching:", 1)[1].split("Output and custody:", 1)[0]
    assert "--hashset FILE" in between and "--pdq-distance" in between and "--out" not in between
    assert "[required, or --inventory-only] Alert set" in " ".join(between.split())
    custody = " ".join(out.split("Output and custody:", 1)[1].split("Performance:", 1)[0].split())
    assert "--out PATH [required, or --resume]" in custody
    assert "--examiner TEXT [required, or in --case-file]" in custody


def test_the_command_list_shows_whole_descriptions():
    out = " ".join(run("--help").stdout.split())
    assert (
        "scan Scan EVIDENCE (disk images, folders, single pictures or videos) into a new case folder." in out
    )
    assert "..." not in out.split("Commands:", 1)[1]


def test_evidence_ids_and_multiple_items(tmp_path):
    out = tmp_path / "case"
    proc = scan(
        [str(DATA / "mbr_fat_ext2.dd"), str(REPO / "examples" / "evidence" / "case2")],
        out,
        "--evidence-id",
        "DISK-A",
        "--evidence-id",
        "FOLDER-B",
        "--no-evidence-hash",
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert [e["id"] for e in report["evidence"]] == ["DISK-A", "FOLDER-B"]
    assert {f["location"].split("/")[0] for f in report["files"]} == {"DISK-A", "FOLDER-B"}


def test_case_folder_inside_folder_evidence_is_refused(tmp_path):
    src = tmp_path / "evidence"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    proc = scan([str(src)], src / "case")
    assert proc.returncode == 2 and "inside the evidence" in proc.stderr
    assert sorted(p.name for p in src.iterdir()) == ["a.txt"]  # nothing written into the evidence


def test_non_empty_out_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "unrelated.txt").write_text("keep me")
    proc = scan([str(DATA / "mbr_fat_ext2.dd")], out)
    assert proc.returncode == 2 and "new or empty folder" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["unrelated.txt"]


def test_reallocated_names_are_listed_but_not_attributed_content(tmp_path):
    src = TESTDATA / "disk" / "dfir_ntfs" / "exfat_orphan.raw.gz"
    if not src.exists():
        pytest.skip("shared conformance corpus (<repo>/../shared/testdata) is absent")
    import gzip

    image = tmp_path / "exfat_orphan.raw"
    image.write_bytes(gzip.decompress(src.read_bytes()))
    out = tmp_path / "case"
    proc = scan([str(image)], out, "--no-evidence-hash")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    realloc = [f for f in report["files"] if "realloc" in f["flags"]]
    assert realloc and all(f["md5"] is None and f["error"] is None for f in realloc)


def test_e01_whose_data_no_longer_matches_its_stored_hash_is_flagged(tmp_path):
    data = bytearray((DATA / "mbr_fat_ext2.E01").read_bytes())
    ev = tmp_path / "tampered.E01"
    # Flip one byte inside the compressed chunk data (past the headers), as a damaged copy would.
    pos = len(data) // 2
    data[pos] ^= 0xFF
    ev.write_bytes(bytes(data))
    out = tmp_path / "case"
    proc = scan([str(ev)], out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["evidence"][0]["verification"] == "mismatch"
    assert any("integrity" in e["message"] for e in report["errors"])
    assert "failed its integrity check" in proc.stderr


def test_blank_pictures_do_not_match_a_blank_phash(tmp_path):
    """A known set holding a flat picture's pHash must not flag every flat picture on the disk."""
    src = tmp_path / "evidence"
    src.mkdir()
    Image.new("RGB", (200, 150), (0, 0, 0)).save(src / "black.png")
    Image.new("RGB", (200, 150), (250, 250, 250)).save(src / "white.png")
    flat = hash_chunks([(src / "white.png").read_bytes()])
    assert flat.pdq_quality is not None and flat.pdq_quality < 50
    known = tmp_path / "flat.csv"
    known.write_text(f"id,phash\nFLAT,{flat.phash}\n")
    proc = scan([str(src)], tmp_path / "case", "--hashset", str(known))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "case" / "report.json").read_text())["matches"] == []


def test_a_matched_picture_with_damaged_exif_costs_its_thumbnail_not_the_scan(tmp_path):
    src = tmp_path / "evidence"
    src.mkdir()
    bad = (DATA / "hostile" / "exif_crash.jpg").read_bytes()  # made by tests/data/hostile/make_hostile.py
    (src / "exif_crash.jpg").write_bytes(bad)
    known = tmp_path / "known.csv"
    known.write_text(f"id,md5\nK-1,{hashlib.md5(bad).hexdigest()}\n")
    out = tmp_path / "case"
    proc = scan([str(src)], out, "--hashset", str(known))
    assert proc.returncode == 1, proc.stderr
    assert (out / "MANIFEST.sha256").exists() and run("verify", str(out)).returncode == 0
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    thumbs = next(e for e in audit if e["action"] == "thumbnails stored")
    assert thumbs["details"]["failed"] + thumbs["details"]["stored"] == 1
