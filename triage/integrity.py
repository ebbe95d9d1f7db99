"""Evidence integrity: the image hashes taken during the scan, checked against the hashes an E01
stores, and ``--verify-after``: every disk image hashed again once the scan is done.

The scan opened the evidence read-only; this second full read is the proof a court may ask for.
It uses the same worker job as the first hash (:class:`triage.worker.MediumJob`), so both reads
hash the same bytes the same way. The result per evidence item (``unchanged``, ``changed`` or
``not computed``) with the digests goes to the case settings (``verify_after``) and the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from triage.case.store import CaseStore
from triage.evidence import Evidence
from triage.records import EvidenceInfo
from triage.timeutil import now_utc
from triage.worker import MediumHashes, MediumJob, process
from triage.workers import WorkerFailure, WorkItem, run_pool


def verify_after(
    store: CaseStore,
    opened: Sequence[Evidence],
    *,
    jobs: int,
    timeout: float,
    min_rate: float,
    on_item: Callable[[str], None] | None = None,
) -> dict[str, dict[str, object]]:
    """Re-hash each image (folders have no image hash) and compare with the scan's hashes."""
    started = now_utc()
    first = {e["id"]: e for e in store.evidence()}
    items = [
        WorkItem(ev.info.evidence_id, MediumJob(ev.spec), timeout + ev.info.size / min_rate)
        for ev in opened
        if ev.info.kind != "folder"
    ]
    results: dict[str, dict[str, object]] = {}
    for eid, value in run_pool(process, items, max(1, min(jobs, len(items) or 1))):
        before = first[eid]
        if isinstance(value, WorkerFailure) or not isinstance(value, MediumHashes):
            results[eid] = {
                "result": "not computed",
                "error": getattr(value, "message", str(value)),
                "md5": None,
                "sha1": None,
                "sha256": None,
            }
        else:
            same = (
                before["sha256"] is not None
                and before["sha256"] == value.sha256
                and before["md5"] == value.md5
            )
            results[eid] = {
                "result": "unchanged" if same else "changed",
                "error": None,
                "md5": value.md5,
                "sha1": value.sha1,
                "sha256": value.sha256,
            }
        store.audit("evidence hashed again", evidence_id=eid, **results[eid])
        if on_item:
            on_item(eid)
    store.set_setting("verify_after", dict(sorted(results.items())))
    store.stage("verify-after", started, now_utc())
    return results


def record_medium(store: CaseStore, info: EvidenceInfo, value: MediumHashes | WorkerFailure) -> None:
    """Compare the medium's computed hashes with those stored in the container (E01)."""
    if isinstance(value, WorkerFailure):
        store.record_error(None, info.evidence_id, f"evidence hashing failed: {value.message}")
        store.set_evidence_hashes(
            info.evidence_id, md5=None, sha1=None, sha256=None, verification="not computed"
        )
        return
    stored = [(info.stored_md5, value.md5), (info.stored_sha1, value.sha1)]
    stored = [(s.lower(), c) for s, c in stored if s]
    if not stored:
        verification = "none stored"
    elif all(s == c for s, c in stored):
        verification = "verified"
    else:
        verification = "mismatch"
        # The image no longer holds what was acquired: an evidence-level error, never silent.
        store.record_error(
            None,
            info.evidence_id,
            f"evidence integrity: the computed hashes of {info.evidence_id} do not match those stored"
            " in the image (stored "
            + ", ".join(f"{n} {v}" for n, v in (("MD5", info.stored_md5), ("SHA-1", info.stored_sha1)) if v)
            + ")",
        )
    store.set_evidence_hashes(
        info.evidence_id, md5=value.md5, sha1=value.sha1, sha256=value.sha256, verification=verification
    )
    store.audit(
        "evidence hashed",
        evidence_id=info.evidence_id,
        bytes=value.size,
        md5=value.md5,
        sha1=value.sha1,
        sha256=value.sha256,
        verification=verification,
    )
