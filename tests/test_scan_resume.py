"""``triage scan --resume`` on a scan really killed with SIGKILL part-way through its hashing.

Inputs are real: the fixture disk image tests/data/mbr_fat_ext2.dd and a folder of generated
pictures (gradients and shapes) large enough that one worker takes a few seconds over them.
The resumed case must hold exactly what a clean scan of the same inputs holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
LISTING = json.loads((DATA / "mbr_fat_ext2.json").read_text())
PICTURES = 60


def triage(*args: str) -> list[str]:
    return [sys.executable, "-m", "triage", *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(triage(*args), capture_output=True, text=True, env=env, timeout=120)


def scan_args(pictures: Path, known: Path, out: Path, jobs: int = 1) -> list[str]:
    return [
        "scan", str(DATA / "mbr_fat_ext2.dd"), str(pictures), "--hashset", str(known), "--out", str(out),
        "--case-number", "C-2026-007", "--examiner", "J. Doe", "--jobs", str(jobs), "--quiet",
    ]  # fmt: skip


def make_pictures(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(PICTURES):
        # Large but plain PNGs: small files (~20 KB) that take a worker ~0.1 s each to decode.
        im = Image.new("RGB", (2000, 1500))
        draw = ImageDraw.Draw(im)
        for y in range(0, 1500, 4):
            draw.rectangle((0, y, 1999, y + 3), fill=((y + 7 * i) % 256, (3 * i) % 256, (255 - y) % 256))
        draw.ellipse((40 + i * 20, 60, 900 + i * 10, 1200), fill=(250 - 3 * i, 40 + 2 * i, 90))
        draw.text((20, 20), f"picture {i}", fill=(255, 255, 255))
        path = folder / f"pic{i:03d}.png"
        im.save(path)
        paths.append(path)
    return paths


def hashed_count(db: Path) -> tuple[int, int] | None:
    """(entries done, entries listed) once listing has finished, read-only; None before."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        if not conn.execute("SELECT 1 FROM stages WHERE name = 'listing'").fetchone():
            return None
        done, total = conn.execute("SELECT SUM(state != 0), COUNT(*) FROM entries").fetchone()
        return int(done or 0), int(total)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def start_and_kill(
    args: list[str], db: Path, cwd: Path | None = None, interrupt: bool = False
) -> tuple[int, int] | str:
    """Start the scan in its own process group and SIGKILL the group (workers too, as a power
    loss would) once some but not all entries are hashed. With ``interrupt``, send the scan
    SIGINT instead (Ctrl-C) and return what it wrote on stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        triage(*args),
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if interrupt else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            counts = hashed_count(db) if db.exists() else None
            if counts and 5 <= counts[0] < counts[1] - 10:
                if interrupt:
                    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
                    _, err = proc.communicate(timeout=60)
                    assert proc.returncode in (-signal.SIGINT, 130), err
                    return err
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                return counts
            if proc.poll() is not None:
                pytest.fail(f"the scan finished (exit {proc.returncode}) before it could be killed")
            time.sleep(0.02)
        pytest.fail("the scan never got part-way through its hashing")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("resume")
    pictures = make_pictures(root / "pictures")
    known = root / "known.csv"
    third = hashlib.md5(pictures[3].read_bytes()).hexdigest()
    dcim = next(e["md5"] for e in LISTING["entries"] if e["path"] == "/DCIM/_ONE.JPG")
    known.write_text(f"id,category,md5\nK-1,1,{dcim}\nK-2,2,{third}\n")
    clean = run(*scan_args(root / "pictures", known, root / "clean", jobs=2))
    assert clean.returncode == 1, clean.stderr
    killed = root / "killed"
    # Started with relative paths from ``root``, resumed from another folder (the tests' own).
    relative = scan_args(Path("pictures"), Path("known.csv"), Path("killed"))
    relative[1] = os.path.relpath(DATA / "mbr_fat_ext2.dd", root)
    counts = start_and_kill(relative, killed / "case.sqlite", cwd=root)
    spare = root / "spare"
    shutil.copytree(killed, spare)
    assert Path.cwd() != root
    resumed = run("scan", "--resume", str(killed), "--jobs", "2")
    return {"root": root, "known": known, "counts": counts, "resumed": resumed, "spare": spare}


def comparable(report: dict) -> dict[str, list]:
    """The files and matches sections without times (the folder's access times change on read)."""
    drop = lambda row: {k: v for k, v in row.items() if not k.endswith("time")}  # noqa: E731
    return {"files": [drop(f) for f in report["files"]], "matches": [drop(m) for m in report["matches"]]}


def test_a_killed_scan_resumes_to_the_same_result_as_a_clean_scan(cases):
    root, resumed = cases["root"], cases["resumed"]
    done, total = cases["counts"]
    assert 0 < done < total
    assert resumed.returncode == 1, resumed.stderr  # finished, with matches
    assert "2 matches" in resumed.stdout and len(resumed.stdout.strip().splitlines()) == 1
    report = json.loads((root / "killed" / "report.json").read_text())
    clean = json.loads((root / "clean" / "report.json").read_text())
    locations = [f["location"] for f in report["files"]]
    assert len(locations) == len(set(locations)) == len(clean["files"])
    assert all(f["status"] != "pending" for f in report["files"])
    assert comparable(report) == comparable(clean)
    assert {m["entry_id"] for m in report["matches"]} == {"K-1", "K-2"}
    assert report["finished_at"] is not None
    assert report["evidence"][0]["md5"] == LISTING["md5"]
    names = [s["name"] for s in report["stages"]]
    assert "listing" in names and "scan" in names
    assert "hashing (resumed)" in names or "hashing" in names
    assert run("verify", str(root / "killed")).returncode == 0


def test_the_audit_log_says_the_scan_was_resumed(cases):
    audit = [json.loads(line) for line in (cases["root"] / "killed" / "audit.jsonl").read_text().splitlines()]
    actions = [e["action"] for e in audit]
    assert actions.count("scan started") == 1 and actions.count("scan finished") == 1
    assert actions.index("scan started") < actions.index("scan resumed") < actions.index("scan finished")
    resumed = next(e["details"] for e in audit if e["action"] == "scan resumed")
    done, total = cases["counts"]
    assert 0 < resumed["pending"] <= total - done
    assert "--resume" in resumed["command_line"]


def test_resume_of_a_finished_case_is_refused(cases):
    proc = run("scan", "--resume", str(cases["root"] / "clean"))
    assert proc.returncode == 2
    assert "already finished; nothing to resume" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_resume_after_the_hash_set_changed_is_refused_and_names_it(cases):
    known: Path = cases["known"]
    before = known.read_text()
    try:
        known.write_text(before + "K-3,1,00000000000000000000000000000000\n")
        proc = run("scan", "--resume", str(cases["spare"]))
    finally:
        known.write_text(before)
    assert proc.returncode == 2
    assert f"hash set {known} changed since the scan started" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_resume_takes_no_other_options_and_needs_a_case(cases, tmp_path):
    proc = run("scan", "--resume", str(cases["spare"]), "--media-only")
    assert proc.returncode == 2 and "--media-only" in proc.stderr
    proc = run("scan", "--resume", str(cases["spare"]), str(DATA / "mbr_fat_ext2.dd"))
    assert proc.returncode == 2 and "EVIDENCE" in proc.stderr
    proc = run("scan", "--resume", str(tmp_path))
    assert proc.returncode == 2 and "not a triage case folder" in proc.stderr


def test_a_resumed_stage_never_overwrites_the_first_runs_times(tmp_path):
    from triage.case.store import CaseStore
    from triage.records import CaseInfo
    from triage.scan.pipeline import stage_name

    store = CaseStore.create(tmp_path / "case", CaseInfo("C-1", "J. Doe"), command_line=["triage"], tool={})
    try:
        assert stage_name(store, "hashing") == "hashing"
        store.stage("hashing", "2026-01-01T00:00:00Z", None)
        assert stage_name(store, "hashing") == "hashing (resumed)"
        store.stage("hashing (resumed)", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z")
        assert stage_name(store, "hashing") == "hashing (resumed 2)"
        assert {s["name"]: s["started_at"] for s in store.stages()}["hashing"] == "2026-01-01T00:00:00Z"
    finally:
        store.close()


def test_a_case_recorded_before_the_upscaled_hash_resumes_without_it():
    """Settings as an older triage recorded them (no ``upscale_below``): the rest of the scan
    must hash as the first part did, so no upscaled hash is added."""
    import json as _json

    from triage.scan.options import ScanOptions

    settings = _json.loads(_json.dumps(ScanOptions().to_settings()))
    del settings["decode_policy"]["upscale_below"]
    del settings["settings_version"]  # version 1: cases recorded before the version was
    assert ScanOptions.from_settings(settings, 1).decode_policy.upscale_below == 0
    settings["decode_policy"]["upscale_below"] = 448
    assert ScanOptions.from_settings(settings, 1).decode_policy.upscale_below == 448


def test_evidence_and_sets_are_stored_absolute_with_the_path_as_given(cases):
    """The killed scan was started from another folder with relative paths: the case keeps
    absolute ones (which let the resume above work) and the path as the examiner gave it."""
    report = json.loads((cases["root"] / "killed" / "report.json").read_text())
    disk, folder = report["evidence"]
    assert disk["source"] == str(DATA / "mbr_fat_ext2.dd")
    assert disk["details"]["path as given"] == os.path.relpath(DATA / "mbr_fat_ext2.dd", cases["root"])
    assert folder["source"] == str(cases["root"] / "pictures")
    assert folder["details"]["path as given"] == "pictures"
    assert [h["path"] for h in report["hashsets"]] == [str(cases["known"])]


def test_ctrl_c_prints_the_command_that_continues_the_scan(cases):
    root = cases["root"]
    stderr = start_and_kill(
        scan_args(root / "pictures", cases["known"], Path("stopped")),
        root / "stopped" / "case.sqlite",
        cwd=root,
        interrupt=True,
    )
    assert isinstance(stderr, str)
    assert f"triage: to continue the scan: triage scan --resume {root / 'stopped'}\n" in stderr
    again = run("scan", "--resume", str(root / "stopped"), "--jobs", "2")
    assert again.returncode == 1, again.stderr


def test_rates_after_a_resume_count_only_this_runs_work():
    """A resume starts with 8,000 files done by the first run: 10 files hashed in 2 s are
    5 files/s, not 4,005."""
    from triage.cli.progress import describe
    from triage.scan.options import Progress

    p = Progress(stage="hashing", files_done=8010, files_total=9000, bytes_done=8_010 << 20,
                 bytes_total=9_000 << 20, started=time.monotonic() - 2.0, files_before=8000,
                 bytes_before=8_000 << 20)  # fmt: skip
    line = describe(p)
    assert " 5.0 files/s, 5.0 MiB/s, ETA 19" in line, line
