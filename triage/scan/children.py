"""Files found inside entries and in unallocated space, turned into case entries (parent side),
and the carving work items (the areas and their cut come from :mod:`triage.evidence.carving`).

Workers return what they found inside an entry as :class:`~triage.records.ChildFile` records on
its :class:`~triage.records.FileHashes`, and carved pictures as a
:class:`~triage.scan.jobs.CarveResult`. The parent, the case store's only writer, gives each an
:class:`~triage.records.Entry` whose location continues the parent's (``...#5>inner.zip>c.jpg``)
or names the carved bytes (``.../$unalloc@OFFSET+LENGTH(carved jpeg)``), adds them to the store
and matches them against the index like any file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from triage.case.store import CaseStore
from triage.evidence.carving.plan import plan_pieces
from triage.evidence.carving.unalloc import carve_areas
from triage.locator import Carved, Location, member_name
from triage.records import Entry, EntryRef, FileHashes, Match, MatchPolicy
from triage.scan.jobs import CarveJob, CarveResult
from triage.scan.scheduler import WorkItem

Result = tuple[int, FileHashes, Sequence[Match]]


def _matches(index: Any, h: FileHashes, policy: MatchPolicy) -> Sequence[Match]:
    if not (h.sha256 or h.pdq or h.phash):
        return []
    return index.match(h, policy)


def record_children(
    store: CaseStore, parent: Entry, hashes: FileHashes, index: Any, policy: MatchPolicy
) -> list[Result]:
    """Add the children of ``parent`` as entries; returns their results to record."""
    entries = [
        Entry(
            evidence_id=parent.evidence_id,
            location=dataclasses.replace(parent.location, members=(*parent.location.members, *c.members)),
            path=">".join((parent.path, *(member_name(m)[0] for m in c.members))),
            size=c.size,
            deleted=parent.deleted,
            ref=dataclasses.replace(parent.ref, members=(*parent.ref.members, *c.members)),
            mtime=c.mtime,
            flags=c.flags,
        )
        for c in hashes.children
    ]
    ids = store.add_entries(entries)
    return [
        (i, c.hashes, _matches(index, c.hashes, policy)) for i, c in zip(ids, hashes.children, strict=True)
    ]


def carve_items(store: CaseStore, opened: Sequence[Any], options: Any) -> list[WorkItem]:
    """Work items carving every disk image's unallocated space; notes go to the case."""
    items: list[WorkItem] = []
    for ev in opened:
        if ev.info.kind in ("folder", "file"):  # no free space: a folder, or one picture/video file
            continue
        eid = ev.info.evidence_id
        areas, notes = carve_areas(ev.spec, ev.info.volumes)
        for note in notes:
            store.record_error(None, eid, note)
        for area in areas:
            for group in plan_pieces(area.runs):
                job = CarveJob(
                    ev.spec,
                    area.volume,
                    group.pieces,
                    options.perceptual,
                    options.decode_policy,
                    group.behind,
                )
                timeout = options.timeout + group.size / options.min_rate
                items.append(WorkItem(("carve", eid, area.volume, group.size), job, timeout))
        store.audit(
            "carving planned",
            evidence_id=eid,
            areas=[str(a.volume) if a.volume else "outside partitions" for a in areas],
            bytes=sum(length for a in areas for _, length in a.runs),
            notes=notes,
        )
    return items


def record_carved(
    store: CaseStore,
    spec: Any,
    evidence_id: str,
    volume: Any,
    result: CarveResult,
    index: Any,
    policy: MatchPolicy,
) -> list[Result]:
    """Add carved pictures as entries (flag ``carved``, counted as deleted); returns their results."""
    entries = []
    for c in result.carved:
        carved = Carved(c.offset, c.length, c.kind)
        entries.append(
            Entry(
                evidence_id=evidence_id,
                location=Location(evidence_id, volume, "", None, (), carved),
                path=str(carved),
                size=c.length,
                deleted=True,
                ref=EntryRef(
                    source=spec,
                    volume_offset=volume.offset if volume else None,
                    fs_type=volume.fs_type if volume else None,
                    byte_range=(c.offset, c.length),
                ),
                flags=("carved",),
            )
        )
    ids = store.add_entries(entries)
    return [(i, c.hashes, _matches(index, c.hashes, policy)) for i, c in zip(ids, result.carved, strict=True)]
