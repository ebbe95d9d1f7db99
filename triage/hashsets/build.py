"""Compile any mix of known-hash sets into one index file (``triage hashset build``).

Streamed: each set is read once, record by record (:class:`~triage.hashsets.loader.HashSetStream`),
and its hashes are packed into fixed-width binary chunks of :data:`CHUNK` hashes as they come,
so a set is never held as Python records. At the end each algorithm's chunks are joined, exact
hashes sorted (for binary search) and written; 10 million SHA-256 cost 320 MB of array plus the
sort's copy. Each hash points (uint32) into a metadata table of distinct (set, id, category,
name, labels) rows, stored once as JSON lines: a set of anonymous hashes costs one row in all,
so the file stays close to the hash bytes themselves (36 bytes per SHA-256).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from triage.errors import HashSetError
from triage.hashsets.base import ALGORITHM_ORDER, HEX_DIGITS
from triage.hashsets.categories import scheme_name
from triage.hashsets.indexfile import FORMAT_VERSION, IndexWriter
from triage.hashsets.loader import HashSetStream, check_role
from triage.hashsets.pictures import PictureFolderStream
from triage.records import EXACT_ALGORITHMS, HashSetInfo
from triage.timeutil import now_utc

#: Hashes packed per step (bounds the Python strings alive at once).
CHUNK = 1 << 18


class _Packer:
    """One algorithm's hashes as binary chunks, plus the metadata row of each."""

    def __init__(self, algorithm: str) -> None:
        self.width = HEX_DIGITS[algorithm] // 2
        self.hexes: list[str] = []
        self.meta: list[int] = []
        self.chunks: list[np.ndarray] = []
        self.meta_chunks: list[np.ndarray] = []

    def flush(self) -> None:
        if self.hexes:
            raw = np.frombuffer(bytes.fromhex("".join(self.hexes)), dtype=np.uint8)
            self.chunks.append(raw.reshape(-1, self.width))
            self.meta_chunks.append(np.array(self.meta, dtype=np.uint32))
            self.hexes, self.meta = [], []

    def arrays(self, sort: bool) -> tuple[np.ndarray, np.ndarray]:
        self.flush()
        hashes = np.concatenate(self.chunks) if self.chunks else np.empty((0, self.width), np.uint8)
        meta = np.concatenate(self.meta_chunks) if self.meta_chunks else np.empty(0, np.uint32)
        self.chunks, self.meta_chunks = [], []
        if sort and len(hashes):
            order = np.argsort(hashes.view(f"S{self.width}").ravel(), kind="stable")
            hashes, meta = hashes[order], meta[order]
        return hashes, meta


def build_index(
    sources: Sequence[tuple[str | os.PathLike[str], str]],
    out: str | os.PathLike[str],
    *,
    category_scheme: str | None = None,
    pictures: Sequence[tuple[str | os.PathLike[str], str, str | None]] = (),
) -> dict[str, Any]:
    """Compile ``sources`` (pairs of set path and role, ``alert`` or ``ignore``) into the index
    file ``out``; returns its table of contents (what ``triage hashset info`` prints).

    ``pictures``: folders of reference pictures as ``(folder, role, category)``
    (:mod:`triage.hashsets.pictures`); the alert ones' signatures are kept for derivative search,
    and every picture that gave no usable signature or PDQ is listed in the result's
    ``unusable`` as ``[set path, picture, reason]``.

    Raises HashSetError naming the set and line for a malformed set, and for a set given twice.
    The index file appears only when complete.
    """
    if not sources and not pictures:
        raise HashSetError("no hash sets to build an index from")
    scheme = scheme_name(category_scheme) if category_scheme is not None else None
    if category_scheme is not None and scheme is None:
        raise HashSetError(
            f"a category scheme is one word (vics, caid or the lab's own), not {category_scheme!r}"
        )
    seen: set[str] = set()
    for path, role in [*sources, *((p, r) for p, r, _ in pictures)]:
        check_role(role)
        absolute = os.path.abspath(os.fspath(path))
        if absolute in seen:
            raise HashSetError(f"{os.fspath(path)}: given twice")
        seen.add(absolute)
    packers = {name: _Packer(name) for name in ALGORITHM_ORDER}
    rows: dict[tuple[Any, ...], int] = {}
    infos: list[HashSetInfo] = []
    streams: list[tuple[HashSetStream | PictureFolderStream, str]] = [
        (HashSetStream(p), r) for p, r in sources
    ]
    streams += [(PictureFolderStream(p, category), r) for p, r, category in pictures]
    signatures: list[tuple[int, bytes, bytes]] = []  # metadata row, SHA-256, signature
    unusable: list[list[str]] = []
    for number, (stream, role) in enumerate(streams):
        for known in stream.hashes():
            key = (number, known.entry_id, known.category, known.name, known.labels)
            row = rows.get(key)
            if row is None:
                row = rows[key] = len(rows)
            packer = packers[known.algorithm]
            packer.hexes.append(known.value)
            packer.meta.append(row)
            if len(packer.hexes) >= CHUNK:
                packer.flush()
        if isinstance(stream, PictureFolderStream):
            path = str(stream.absolute)
            unusable += [[path, name, why] for name, why in stream.unusable]
            for known, data in stream.signatures if role == "alert" else ():
                key = (number, known.entry_id, known.category, known.name, known.labels)
                row = rows.setdefault(key, len(rows))
                signatures.append((row, bytes.fromhex(known.value), data))
        info = stream.info()  # a scheme the set declares itself wins over category_scheme
        infos.append(replace(info, role=role, category_scheme=info.category_scheme or scheme))
    built_at = now_utc()
    writer = IndexWriter(Path(out))
    try:
        counts: dict[str, int] = {}
        for name, packer in packers.items():
            hashes, meta = packer.arrays(sort=name in EXACT_ALGORITHMS)
            if len(hashes):
                writer.add(f"{name}.hash", hashes)
                writer.add(f"{name}.meta", meta)
                counts[name] = len(hashes)
            del hashes, meta
        if signatures:
            _add_signatures(writer, signatures)
            counts["orb"] = len(signatures)
        blob = [json.dumps(list(key), ensure_ascii=False).encode("utf-8") for key in rows]
        del rows
        offsets = np.zeros(len(blob) + 1, dtype=np.uint64)
        np.cumsum([len(b) for b in blob], out=offsets[1:])
        writer.add("meta.offsets", offsets)
        writer.add("meta.rows", np.frombuffer(b"".join(blob), dtype=np.uint8))
        toc = {
            "format_version": FORMAT_VERSION,
            "built_at": built_at,
            "counts": counts,
            "unusable": unusable,
            "sources": [
                {**asdict(i), "counts": [list(c) for c in i.counts], "built_at": built_at} for i in infos
            ],
        }
        writer.finish(toc)
    except BaseException:
        writer.abort()
        raise
    return toc


def _add_signatures(writer: IndexWriter, signatures: list[tuple[int, bytes, bytes]]) -> None:
    """The reference pictures' signatures: their metadata rows, SHA-256s, and the signature
    bytes joined, with offsets (``orb.offsets[i]:orb.offsets[i + 1]`` is picture i's)."""
    writer.add("orb.meta", np.array([row for row, _, _ in signatures], dtype=np.uint32))
    writer.add("orb.sha256", np.frombuffer(b"".join(d for _, d, _ in signatures), np.uint8).reshape(-1, 32))
    offsets = np.zeros(len(signatures) + 1, dtype=np.uint64)
    np.cumsum([len(b) for _, _, b in signatures], out=offsets[1:])
    writer.add("orb.offsets", offsets)
    writer.add("orb.data", np.frombuffer(b"".join(b for _, _, b in signatures), dtype=np.uint8))
