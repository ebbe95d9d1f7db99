"""A folder of the lab's own reference pictures as a hash set (``hashset build --alert-images``).

Every picture under the folder (recursively, in sorted path order; other files are ignored)
becomes an entry whose id is its file name without the extension, holding its MD5, SHA-1,
SHA-256, PDQ and its local-feature signature (:mod:`triage.hashing.features`), so a scan finds
exact, PDQ and derivative copies even when the originals are not on the evidence. The index
keeps hashes and descriptors, never pixels.

A picture that cannot give a usable signature or PDQ (too small, flat, PDQ quality under 50, or
not decodable) is listed in :attr:`PictureFolderStream.unusable` with the reason, and the
command that builds the set prints it: nothing is skipped silently. Its exact hashes are kept.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from triage.errors import HashSetError
from triage.hashing.features import MIN_KNOWN_KEYPOINTS, MIN_SIDE, Signature
from triage.hashing.file import hash_chunks
from triage.records import DecodePolicy, HashSetInfo, KnownHash

#: PDQ below this quality is not kept (it would match unrelated pictures; Meta's threshold).
MIN_PDQ_QUALITY = 50
FORMAT = "reference pictures"
_POLICY = DecodePolicy(derivatives=True)


class PictureFolderStream:
    """One pass over a folder of pictures, with the interface of
    :class:`~triage.hashsets.loader.HashSetStream` (``hashes()``, then ``info()``), plus the
    signatures found (``signatures``: entry id, SHA-256, bytes) and the pictures that gave none
    (``unusable``: relative path, reason)."""

    def __init__(self, path: str | os.PathLike[str], category: str | None = None) -> None:
        self.display = os.fspath(path)
        self.absolute = Path(os.path.abspath(self.display))
        if not self.absolute.is_dir():
            raise HashSetError(f"{self.display}: not a folder of pictures")
        self.category = category
        self.signatures: list[tuple[KnownHash, bytes]] = []
        self.unusable: list[tuple[str, str]] = []
        self._counts: Counter[str] = Counter()
        self._listing = hashlib.sha256()
        self._pictures = 0

    def hashes(self) -> Iterator[KnownHash]:
        files = sorted(p for p in self.absolute.rglob("*") if p.is_file())
        for file in files:
            name = file.relative_to(self.absolute).as_posix()
            try:
                data = file.read_bytes()
            except OSError as e:
                raise HashSetError(f"{self.display}/{name}: cannot read: {e.strerror or e}") from e
            h = hash_chunks([data], media_only=True, policy=_POLICY)
            if h.media_kind != "picture":
                continue
            self._pictures += 1
            self._listing.update(f"{name}\0{h.sha256}\n".encode("utf-8", "surrogateescape"))
            entry = file.stem
            found = [KnownHash(a, getattr(h, a), entry, self.category) for a in ("md5", "sha1", "sha256")]
            problems = []
            if h.error:
                problems.append(h.error)
            elif h.pdq and (h.pdq_quality or 0) >= MIN_PDQ_QUALITY:
                found.append(KnownHash("pdq", h.pdq, entry, self.category))
            else:
                problems.append(f"PDQ quality {h.pdq_quality} under {MIN_PDQ_QUALITY}: no PDQ kept")
            corners = len(Signature.from_bytes(h.features)) if h.features else 0
            if h.features and corners < MIN_KNOWN_KEYPOINTS:
                problems.append(f"only {corners} keypoints (under {MIN_KNOWN_KEYPOINTS}): too plain")
            elif h.features:
                known = KnownHash("sha256", h.sha256 or "", entry, self.category)
                self.signatures.append((known, h.features))
            elif not h.error:
                small = min(h.width or 0, h.height or 0) < MIN_SIDE
                why = f"smaller than {MIN_SIDE} px" if small else "flat or featureless"
                problems.append(f"no usable local-feature signature ({why})")
            if problems:
                self.unusable.append((name, "; ".join(problems)))
            for known in found:
                self._counts[known.algorithm] += 1
                yield known
        if not self._pictures:
            raise HashSetError(f"{self.display}: no pictures found in the folder")

    def info(self) -> HashSetInfo:
        counts = tuple(sorted(self._counts.items()))
        return HashSetInfo(
            path=str(self.absolute),
            sha256=self._listing.hexdigest(),
            format=FORMAT,
            entries=self._pictures,
            counts=(*counts, ("orb", len(self.signatures))),
            name=self.absolute.name,
        )
