"""``triage scan`` finds derivatives (issue 13): of a picture matched by a hash-only set (the seed,
named in the match), and of a reference picture compiled with ``hashset build --alert-images``;
``--no-derivatives`` finds none and computes no signatures; the reports say what a derivative
match is and outline the region."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / ".." / "shared" / "testdata"
SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text())


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> Path:
    photo, other = TESTDATA / "media" / "LadyBird.jpg", TESTDATA / "media" / "alps.jpg"
    if not photo.exists() or not other.exists():
        pytest.skip("shared test corpus (../shared/testdata) not present")
    root = tmp_path_factory.mktemp("deriv")
    ev = root / "ev"
    ev.mkdir()
    known = Image.open(photo).convert("RGB")
    known.thumbnail((800, 800))
    known.save(root / "seed.jpg", quality=90)
    (ev / "seed.jpg").write_bytes((root / "seed.jpg").read_bytes())
    w, h = known.size
    known.crop((0, 0, int(w * 0.8), int(h * 0.8))).save(ev / "crop.jpg", quality=85)
    background = Image.open(other).convert("RGB").resize((1200, 900))
    background.save(ev / "unrelated.jpg", quality=85)
    background.paste(known.resize((600, round(600 * h / w))), (300, 200))
    background.save(ev / "screenshot.jpg", quality=85)
    return root


def _scan(root: Path, name: str, hashset: Path, *flags: str) -> dict:
    out = root / name
    proc = _run("scan", str(root / "ev"), "--hashset", str(hashset), "--out", str(out),
                "--case-number", "C-13", "--examiner", "J. Doe", "--jobs", "2", "-q", *flags)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    return json.loads((out / "report.json").read_text())


def _derivatives(report: dict) -> dict[str, dict]:
    return {m["location"]: m for m in report["matches"] if m["kind"] == "derivative"}


def test_seed_from_a_hash_only_set(evidence):
    md5 = hashlib.md5((evidence / "seed.jpg").read_bytes()).hexdigest()
    known = evidence / "known.csv"
    known.write_text(f"md5,id,category\n{md5},K-1,1\n")
    report = _scan(evidence, "case", known, "--derivatives")
    found = _derivatives(report)
    assert set(found) == {"EV1/crop.jpg", "EV1/screenshot.jpg"}
    shot = found["EV1/screenshot.jpg"]
    assert shot["algorithm"] == "orb" and shot["entry_id"] == "K-1" and shot["category"] == "1"
    assert shot["derivative"]["seed"] == "EV1/seed.jpg"
    assert abs(shot["derivative"]["scale"] - 0.75) < 0.05
    assert shot["derivative"]["inliers"] >= 15
    assert (evidence / "case" / "features.bin").exists()
    html = (evidence / "case" / "report.html").read_text()
    assert "A derivative match means" in html and "derivative-box" in html
    assert "3 files match known pictures: 1 exact, 0 similar, 2 derivative (edited copies)" in html
    assert "derivative" in (evidence / "case" / "matches.csv").read_text()
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(report, SCHEMA)


def test_threads_find_the_same_matches_in_the_same_order(evidence):
    """The derivative stage runs on threads (one per --jobs): the same matches, in the same
    order, as on one thread. Uses the case the test above made."""
    from triage.case.store import CaseStore
    from triage.scan.derivatives import find_derivatives

    case = evidence / "case"
    if not case.exists():
        pytest.skip("needs the case of test_seed_from_a_hash_only_set")
    with CaseStore.open(case, read_only=True) as store:
        seeds = store.seeds()
        one = find_derivatives(case, seeds, set(), store.sha256_of, threads=1)
        two = find_derivatives(case, seeds, set(), store.sha256_of, threads=2)
    assert len(one) == 2 and one == two


def test_no_derivatives_option(evidence):
    md5 = hashlib.md5((evidence / "seed.jpg").read_bytes()).hexdigest()
    known = evidence / "known2.csv"
    known.write_text(f"md5,id,category\n{md5},K-1,1\n")
    report = _scan(evidence, "case-off", known)  # off by default (its cost: docs/matching.md)
    assert not _derivatives(report)
    assert not (evidence / "case-off" / "features.bin").exists()


def test_reference_pictures_compiled_into_a_set(evidence):
    refs = evidence / "refs"
    refs.mkdir()
    (refs / "REF-7.jpg").write_bytes((evidence / "seed.jpg").read_bytes())
    Image.new("RGB", (300, 200), (128, 128, 128)).save(refs / "flat.png")
    index = evidence / "refs.idx"
    built = _run("hashset", "build", "--alert-images", str(refs), "--category", "2", "-o", str(index))
    assert built.returncode == 0, built.stderr
    assert "1 picture signatures" in built.stdout
    assert "flat.png" in built.stdout and "flat or featureless" in built.stdout  # reported, not skipped
    (evidence / "ev" / "seed.jpg").rename(evidence / "seed-moved.jpg")  # the original is not on the evidence
    try:
        report = _scan(evidence, "case-refs", index, "--derivatives")
    finally:
        (evidence / "seed-moved.jpg").rename(evidence / "ev" / "seed.jpg")
    found = _derivatives(report)
    assert set(found) == {"EV1/crop.jpg", "EV1/screenshot.jpg"}
    assert all(m["entry_id"] == "REF-7" and m["category"] == "2" for m in found.values())
    assert all(m["derivative"]["seed"] is None for m in found.values())
