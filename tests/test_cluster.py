"""``triage scan --cluster``: the scan's work items on a real Dask cluster (issue 14).

A ``distributed.LocalCluster`` of two one-thread worker processes, shared by the module, stands
in for a lab's rack; the scheduler that goes away, the worker that cannot see the evidence and
the TLS cluster are separate clusters of their own. Inputs are real: the fixture disk image
tests/data/mbr_fat_ext2.dd, its E01, and a folder of generated pictures. What is compared is the
report the local pool writes for the same inputs.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

distributed = pytest.importorskip("distributed", reason="needs Dask's distributed: pip install '.[cluster]'")

from triage.case.store import CaseStore  # noqa: E402
from triage.evidence import open_evidence  # noqa: E402
from triage.records import CaseInfo  # noqa: E402
from triage.scan.child import run_in_child  # noqa: E402
from triage.scan.dask_scheduler import DaskScheduler  # noqa: E402
from triage.scan.feed import Feed  # noqa: E402
from triage.scan.jobs import HashBatch, HashJob  # noqa: E402
from triage.scan.options import ScanOptions  # noqa: E402
from triage.scan.pool import run_pool  # noqa: E402
from triage.scan.scheduler import HASH_TASK, WorkerFailure  # noqa: E402
from triage.scan.tasks import process  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
LISTING = json.loads((DATA / "mbr_fat_ext2.json").read_text())
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
BOOM = "boom.bin"


def crash_on_boom(job):
    """The real worker, except that a job holding ``boom.bin`` kills its process (SIGSEGV)."""
    jobs = job.jobs if isinstance(job, HashBatch) else (job,)
    if any(isinstance(j, HashJob) and (j.ref.fs_path or "").endswith(BOOM) for j in jobs):
        os.kill(os.getpid(), signal.SIGSEGV)
    return process(job)


def slow_process(job):
    """The real worker, a little slower, so that a worker can be killed while items are out."""
    time.sleep(0.15)
    return process(job)


def triage(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def make_pictures(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(count):
        im = Image.new("RGB", (640, 480), ((11 * i) % 256, (5 * i) % 256, 200))
        draw = ImageDraw.Draw(im)
        draw.ellipse(
            (20 + (9 * i) % 300, 30, 400 + (5 * i) % 200, 420),
            fill=((250 - 3 * i) % 256, (40 + 2 * i) % 256, 90),
        )
        draw.text((10, 10), f"picture {i}", fill=(255, 255, 255))
        path = folder / f"pic{i:03d}.png"
        im.save(path)
        paths.append(path)
    (folder / "notes.txt").write_text("not a picture\n")
    return paths


def scan_args(evidence: list[Path], known: Path, out: Path, *extra: str) -> list[str]:
    return [
        "scan", *map(str, evidence), "--hashset", str(known), "--out", str(out),
        "--case-number", "C-2026-014", "--examiner", "J. Doe", "--quiet", *extra,
    ]  # fmt: skip


def comparable(report: dict) -> dict[str, list]:
    """Files and matches without times (a folder's access times change on read)."""
    drop = lambda row: {k: v for k, v in row.items() if not k.endswith("time")}  # noqa: E731
    return {"files": [drop(f) for f in report["files"]], "matches": [drop(m) for m in report["matches"]]}


def audit(case: Path) -> list[dict]:
    return [json.loads(line) for line in (case / "audit.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0"
    ) as c:
        yield c


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    pictures = make_pictures(root / "pictures", 24)
    known = root / "known.csv"
    dcim = next(e["md5"] for e in LISTING["entries"] if e["path"] == "/DCIM/_ONE.JPG")
    third = hashlib.md5(pictures[3].read_bytes()).hexdigest()
    known.write_text(f"id,category,md5\nK-1,1,{dcim}\nK-2,2,{third}\n")
    evidence = [DATA / "mbr_fat_ext2.dd", DATA / "mbr_fat_ext2.E01", root / "pictures"]
    local = triage(*scan_args(evidence, known, root / "local", "--jobs", "2"))
    assert local.returncode == 1, local.stderr
    return {"root": root, "known": known, "evidence": evidence, "local": root / "local"}


def test_two_scans_sharing_the_cluster_give_the_local_pools_results(cluster, inputs):
    """A disk image, an E01 and a folder; two scans at once on one cluster (a lab's script)."""
    root, address = inputs["root"], cluster.scheduler_address
    outs = [root / "cluster-a", root / "cluster-b"]
    cluster_arg = ("--cluster", address)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "triage",
                *scan_args(inputs["evidence"], inputs["known"], out),
                *cluster_arg,
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 1, err
    local = json.loads((inputs["local"] / "report.json").read_text())
    assert {m["entry_id"] for m in local["matches"]} == {"K-1", "K-2"}
    for out in outs:
        report = json.loads((out / "report.json").read_text())
        assert comparable(report) == comparable(local)
        assert [e["md5"] for e in report["evidence"][:2]] == [LISTING["md5"]] * 2
        # Provenance: the scheduler and each worker's host and library versions.
        recorded = report["settings"]["cluster"]
        assert recorded["scheduler"] == address
        assert len(recorded["workers"]) == 2
        for info in recorded["workers"].values():
            assert info["host"] and info["libraries"]["pdqhash"] and info["triage"]
        html = (out / "report.html").read_text()
        assert address in html and "pdqhash" in html
        joined = [e for e in audit(out) if e["action"] == "cluster worker joined"]
        assert sorted(e["details"]["worker"] for e in joined) == sorted(recorded["workers"])
        assert triage("verify", str(out)).returncode == 0


@pytest.fixture
def listed(tmp_path):
    """A folder of small files and pictures listed into a case store, as a scan does."""
    src = tmp_path / "evidence"
    make_pictures(src, 16)
    for i in range(150):
        (src / f"note{i:03d}.txt").write_bytes(f"note {i}\n".encode() * (i + 1))
    (src / BOOM).write_bytes(b"\x00" * 100)
    ev = open_evidence(src, "EV1")
    store = CaseStore.create(tmp_path / "case", CaseInfo("C-1", "Ex"), command_line=["t"], tool={})
    store.add_evidence(ev.info)
    store.add_entries(list(ev.entries()))
    yield store, ev
    ev.close()
    store.close()


def run_feed(store: CaseStore, ev, scheduler, task: str, during=None) -> dict:
    order = [i for i, _size, _flags in store.pending_order()]
    feed = Feed(store, order, (), ScanOptions(jobs=2))
    got: dict = {}
    for n, (key, value) in enumerate(scheduler.run(task, feed, 2)):
        if during is not None and n == 3:
            during()
        for entry_id, _size, hashes in feed.settle(key, value):
            assert entry_id not in got
            got[entry_id] = hashes
    return got


class _Pool:
    def run(self, task, items, slots):
        return run_pool(task, items, slots)


def worker_pids(address: str) -> dict[str, int]:
    """Each worker's process id, by worker address."""
    with distributed.Client(address) as client:
        return client.run(os.getpid)


def behave(payload):
    """A task for the child process: the payload says what to do."""
    kind, value = payload
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "hang":
        time.sleep(60)
    if kind == "raise":
        raise ValueError("bad\ninput")
    return value * 2, os.getpid()


def test_the_worker_side_child_turns_crash_hang_and_exception_into_one_items_failure():
    """What a Dask worker does with each item (triage.scan.child), without Dask."""
    task = f"{__name__}:behave"
    (value, pid), (_, again) = run_in_child(task, ("ok", 2), 30), run_in_child(task, ("ok", 3), 30)
    assert value == 4 and again == pid  # one child, kept between items
    assert run_in_child(task, ("raise", 0), 30) == WorkerFailure("ValueError: bad input")
    assert run_in_child(task, ("crash", 0), 30) == WorkerFailure(
        "worker crashed (SIGSEGV) while processing this item"
    )
    started = time.monotonic()
    assert run_in_child(task, ("hang", 0), 1.0) == WorkerFailure("timed out after 1 s; worker stopped")
    assert time.monotonic() - started < 10
    value, pid_after = run_in_child(task, ("ok", 5), 30)
    assert value == 10 and pid_after != pid  # a fresh child after the crash and the hang


def test_the_check_names_what_differs(tmp_path):
    """Probes of real evidence as two machines would see it, compared as before a scan."""
    from triage.errors import ClusterError
    from triage.records import SourceSpec
    from triage.scan.guard import compare, probe

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours, theirs):
        folder.mkdir()
        (folder / "a.txt").write_text("a")
    image = SourceSpec("raw", (str(DATA / "mbr_fat_ext2.dd"),))
    here = probe([image, SourceSpec("folder", (str(ours),))])
    names = ["EV1", "EV2"]
    compare("tcp://w1:1", here, probe([image, SourceSpec("folder", (str(theirs),))]), names)  # the same
    (theirs / "b.txt").write_text("b")
    with pytest.raises(
        ClusterError, match=r"^cluster worker tcp://w1:1 \(.+\) sees 2 names, not 1, at the top"
    ):
        compare("tcp://w1:1", here, probe([image, SourceSpec("folder", (str(theirs),))]), names)
    missing = SourceSpec("raw", (str(tmp_path / "elsewhere.dd"),))
    with pytest.raises(ClusterError, match="cannot open the evidence EV1"):
        compare("tcp://w1:1", here, probe([missing, SourceSpec("folder", (str(ours),))]), names)
    other = {**here, "libraries": {**here["libraries"], "pdqhash": "0.0.1"}}
    with pytest.raises(ClusterError, match=r"has pdqhash 0\.0\.1, this machine .*: hashes could differ"):
        compare("tcp://w1:1", here, other, names)


def test_a_decoder_crash_is_one_files_error_and_no_worker_dies(cluster, listed):
    store, ev = listed
    scheduler = DaskScheduler(cluster.scheduler_address)
    try:
        scheduler.check([ev])
        before = worker_pids(cluster.scheduler_address)
        got = run_feed(store, ev, scheduler, f"{__name__}:crash_on_boom")
        assert worker_pids(cluster.scheduler_address) == before  # the child died, never the worker
    finally:
        scheduler.close()
    expected = run_feed(store, ev, _Pool(), HASH_TASK)
    paths = dict((i, e.path) for i, e in store.entries_by_id(list(got)))
    failed = {paths[i]: h.error for i, h in got.items() if h.error}
    assert len(failed) == 1 and failed[f"/{BOOM}"] == "worker crashed (SIGSEGV) while processing this item"
    del expected[next(i for i, p in paths.items() if p == f"/{BOOM}")]
    assert {i: h for i, h in got.items() if paths[i] != f"/{BOOM}"} == expected


def test_a_worker_killed_mid_scan_loses_nothing(cluster, listed):
    store, ev = listed
    scheduler = DaskScheduler(cluster.scheduler_address)
    try:
        scheduler.check([ev])
        scheduler.record(store)
        pids = worker_pids(cluster.scheduler_address)
        victim = sorted(pids)[0]
        got = run_feed(
            store,
            ev,
            scheduler,
            f"{__name__}:slow_process",
            during=lambda: os.kill(pids[victim], signal.SIGKILL),
        )
    finally:
        scheduler.close()
    expected = run_feed(store, ev, _Pool(), HASH_TASK)
    assert sorted(got) == sorted(expected) and got == expected
    assert not any(h.error for h in got.values())
    events = [(e["action"], e["details"]["worker"]) for e in store.audit_events() if "worker" in e["details"]]
    assert ("cluster worker left", victim) in events
    assert set(pids) <= {w for a, w in events if a == "cluster worker joined"}


@pytest.fixture
def scheduler_file(tmp_path):
    """A scheduler and one worker as separate processes (``dask scheduler`` / ``dask worker``)."""
    file = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--scheduler-file", str(file), "--no-dashboard"],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    address = None
    while address is None and time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            address = json.loads(file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            continue
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--no-dashboard",
            ],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    yield address, procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def hashed_count(db: Path) -> tuple[int, int] | None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        done, total = conn.execute("SELECT SUM(state != 0), COUNT(*) FROM entries").fetchone()
        return int(done or 0), int(total)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def test_a_scheduler_that_goes_away_ends_the_scan_and_resume_continues(
    cluster, inputs, scheduler_file, tmp_path
):
    address, (scheduler_proc, _) = scheduler_file
    pictures = make_pictures(tmp_path / "many", 80)
    known = inputs["known"]
    out = tmp_path / "case"
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage", *scan_args([pictures[0].parent], known, out), "--cluster", address],
        env={**ENV, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"},  # wait 3 s for it, not 30
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        counts = hashed_count(out / "case.sqlite") if (out / "case.sqlite").exists() else None
        if counts and 0 < counts[0] < counts[1] - 20:
            scheduler_proc.kill()
            break
        time.sleep(0.05)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "lost the Dask scheduler" in err and len(err.strip().splitlines()) == 1, err
    assert [e for e in audit(out) if e["action"] == "scan interrupted"]
    resumed = triage("scan", "--resume", str(out), "--cluster", cluster.scheduler_address, "--quiet")
    assert resumed.returncode == 1, resumed.stderr  # finished; pic003 is in the known set
    report = json.loads((out / "report.json").read_text())
    assert report["finished_at"] is not None and not report["errors"]
    assert [(m["entry_id"], m["path"]) for m in report["matches"]] == [("K-2", "/pic003.png")]
    files = {f["path"]: f for f in report["files"]}
    assert sorted(files) == sorted(f"/{p.name}" for p in [*pictures, pictures[0].parent / "notes.txt"])
    for p in pictures:
        assert files[f"/{p.name}"]["md5"] == hashlib.md5(p.read_bytes()).hexdigest()
        assert files[f"/{p.name}"]["pdq"]


def test_a_worker_that_cannot_see_the_evidence_is_refused(inputs, tmp_path):
    """The worker runs in a mount namespace where the evidence's folder is an empty tmpfs, as a
    machine without the lab's shared mount would see it."""
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs unshare -Urm (user and mount namespaces) to hide the evidence from a worker")
    shared = tmp_path / "shared"
    shared.mkdir()
    image = shared / "seized.dd"
    image.write_bytes((DATA / "mbr_fat_ext2.dd").read_bytes())
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as c:
        hidden = f"mount -t tmpfs none {shared} && exec {sys.executable} -m distributed.cli.dask_worker"
        worker = subprocess.Popen(
            ["unshare", "-Urm", "sh", "-c", f"{hidden} {c.scheduler_address} --nthreads 1 --no-dashboard"],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with distributed.Client(c.scheduler_address) as client:
                client.wait_for_workers(1, timeout=60)
            out = tmp_path / "case"
            proc = triage(*scan_args([image], inputs["known"], out), "--cluster", c.scheduler_address)
        finally:
            worker.kill()
            worker.wait(10)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "cluster worker tcp://" in line and f"cannot open the evidence EV1 ({image})" in line, line
    assert not out.exists() or not any(out.iterdir())  # refused before the case was made


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and one certificate (with its key) signed by it for localhost, as a lab would make."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = cert("triage test CA", ca_key, "triage test CA", ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert("localhost", key, "triage test CA", ca_key, False)
    paths = folder / "ca.pem", folder / "node.pem", folder / "node.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def test_tls(inputs, tmp_path):
    from distributed.security import Security

    ca, cert, key = make_certificates(tmp_path)
    security = Security(
        tls_ca_file=str(ca),
        tls_scheduler_cert=str(cert),
        tls_scheduler_key=str(key),
        tls_worker_cert=str(cert),
        tls_worker_key=str(key),
        tls_client_cert=str(cert),
        tls_client_key=str(key),
        require_encryption=True,
    )
    folder = inputs["root"] / "pictures"
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        protocol="tls",
        host="localhost",
        security=security,
        dashboard_address=":0",
    ) as c:
        address = c.scheduler_address
        assert address.startswith("tls://")
        tls = ["--cluster", address, "--cluster-ca", str(ca), "--cluster-cert", str(cert)]
        proc = triage(
            *scan_args([folder], inputs["known"], tmp_path / "case"), *tls, "--cluster-key", str(key)
        )
        plain = triage(*scan_args([folder], inputs["known"], tmp_path / "no-tls"), "--cluster", address)
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "case" / "report.json").read_text())
    assert report["settings"]["cluster"]["scheduler"] == address
    assert {m["entry_id"] for m in report["matches"]} == {"K-2"}
    assert plain.returncode == 2 and len(plain.stderr.strip().splitlines()) == 1
    assert "is a TLS address: give --cluster-ca and --cluster-cert" in plain.stderr
