"""Evidence integrity: the image hashes taken during the scan, checked against the hashes an E01
stores, and ``--verify-after``: every disk image hashed again once the scan is done.

The scan opened the evidence read-only; this second full read is the proof a court may ask for.
It uses the same digest loop as the first hash (:func:`triage.hashing.crypto.digest_chunks` over
:func:`triage.evidence.iter_medium`), so both reads hash the same bytes the same way. The result
per evidence item (``unchanged``, ``changed`` or ``not computed``) with the digests goes to the
case settings (``verify_after``) and the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from triage.case.store import CaseStore
from triage.errors import TriageError
from triage.evidence import Evidence, iter_medium
from triage.hashing.crypto import Digests, digest_chunks
from triage.records import EvidenceInfo
from triage.scan.scheduler import WorkerFailure
from triage.timeutil import now_utc


def verify_after(
    store: CaseStore,
    opened: Sequence[Evidence],
    *,
    on_bytes: Callable[[str, int, int], None] | None = None,
) -> dict[str, dict[str, object]]:
    """Re-hash each image (folders have no image hash) and compare with the scan's hashes.

    The read runs here, one image after the other, so ``on_bytes(evidence_id, done, total)``
    can show a long read's progress (the scan's own image hash runs in a worker beside the file
    hashing). The digests are computed exactly as the worker's :class:`MediumJob` does.
    """
    started = now_utc()
    first = {e["id"]: e for e in store.evidence()}
    results: dict[str, dict[str, object]] = {}
    for ev in opened:
        if ev.info.kind == "folder":
            continue
        eid = ev.info.evidence_id
        before = first[eid]
        try:
            value = digest_chunks(
                iter_medium(ev.spec),
                lambda done, eid=eid, total=ev.info.size: _tick(on_bytes, eid, done, total),
            )
        except (TriageError, OSError) as e:
            results[eid] = {"result": "not computed", "error": " ".join(str(e).split()),
                            "md5": None, "sha1": None, "sha256": None}  # fmt: skip
        else:
            same = (
                before["sha256"] is not None
                and before["sha256"] == value.sha256
                and before["md5"] == value.md5
            )
            results[eid] = {"result": "unchanged" if same else "changed", "error": None,
                            "md5": value.md5, "sha1": value.sha1, "sha256": value.sha256}  # fmt: skip
        store.audit("evidence hashed again", evidence_id=eid, **results[eid])
    store.set_setting("verify_after", dict(sorted(results.items())))
    store.stage("verify-after", started, now_utc())
    return results


def _tick(on_bytes: Callable[[str, int, int], None] | None, eid: str, done: int, total: int) -> None:
    if on_bytes is not None:
        on_bytes(eid, done, total)


def record_medium(store: CaseStore, info: EvidenceInfo, value: Digests | WorkerFailure) -> None:
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
