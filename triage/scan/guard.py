"""Is a cluster worker fit to compute this scan's results? Checked before any item is sent.

Results must not depend on which machine computed them. A worker that reads a different file at
the evidence path (another mount, a stale copy), or decodes with another Pillow, OpenCV or
pdqhash (perceptual hashes move with decoders and resamplers), would put figures in the case that
no one can reproduce. So each worker answers :func:`probe` (run through its child process, the
very environment that hashes) and :func:`compare` refuses, in one line naming the worker, any
that differs from the machine running triage.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from collections.abc import Sequence
from typing import Any

import triage
from triage.errors import ClusterError
from triage.records import SourceSpec
from triage.scan.provenance import package_version

#: Distributions whose version can change a hash, a decode or what is read from the evidence.
HASH_LIBRARIES: tuple[str, ...] = (
    "pillow", "pillow-heif", "imagehash", "pdqhash", "numpy", "opencv-python-headless", "pytsk3",
    "libewf-python", "libvhdi-python", "libvmdk-python", "libqcow-python", "libfsapfs-python", "py7zr",
)  # fmt: skip
#: Bytes at the start of each medium whose SHA-256 every worker must agree on.
HEAD_BYTES = 1 << 20


def _look(spec: SourceSpec) -> dict[str, Any]:
    """Size and a digest of the start of one evidence item as this process sees it. For a
    folder: the number of names at its top and a digest of those names and sizes."""
    from triage.evidence import disk

    try:
        if spec.kind == "folder":
            top = sorted(os.scandir(spec.paths[0]), key=lambda e: e.name)
            listing = "\n".join(f"{e.name}\t{e.stat(follow_symlinks=False).st_size}" for e in top)
            digest = hashlib.sha256(listing.encode("utf-8", "replace")).hexdigest()
            return {"names": len(top), "head": digest}
        img = disk.open_image(spec)
        try:
            size = int(img.get_size())
            head = img.read(0, min(size, HEAD_BYTES)) if size else b""
        finally:
            img.close()
        return {"size": size, "head": hashlib.sha256(head).hexdigest()}
    except Exception as e:
        return {"error": " ".join(f"{type(e).__name__}: {e}".split())[:300]}


def probe(specs: Sequence[SourceSpec]) -> dict[str, Any]:
    """What this process is and sees: host, triage and library versions, each evidence item."""
    return {
        "host": socket.gethostname(),
        "triage": triage.__version__,
        "python": platform.python_version(),
        "libraries": {name: package_version(name) for name in HASH_LIBRARIES},
        "evidence": [_look(s) for s in specs],
    }


def compare(worker: str, here: dict[str, Any], there: Any, names: Sequence[str]) -> None:
    """Raise :class:`ClusterError` naming ``worker`` when its probe ``there`` differs from
    ``here`` (this machine's); ``names`` label the evidence items in the message."""
    if not isinstance(there, dict) or "evidence" not in there:
        raise ClusterError(f"cluster worker {worker} could not be checked: {there}")
    who = f"cluster worker {worker} ({there.get('host', '?')})"
    if there.get("triage") != here["triage"]:
        raise ClusterError(f"{who} runs triage {there.get('triage')}, this machine {here['triage']}")
    for lib, version in here["libraries"].items():
        theirs = there.get("libraries", {}).get(lib)
        if theirs != version:
            raise ClusterError(f"{who} has {lib} {theirs}, this machine {version}: hashes could differ")
    for name, mine, seen in zip(names, here["evidence"], there["evidence"], strict=True):
        if "error" in seen:
            raise ClusterError(f"{who} cannot open the evidence {name}: {seen['error']}")
        if seen.get("size") != mine.get("size"):
            raise ClusterError(
                f"{who} sees the evidence {name} with size {seen.get('size')}, not {mine['size']}"
            )
        if seen.get("names") != mine.get("names"):
            names = f"{seen.get('names')} names, not {mine['names']},"
            raise ClusterError(f"{who} sees {names} at the top of the evidence folder {name}")
        if seen["head"] != mine["head"]:
            what = "names at the top" if "names" in mine else "content at the start"
            raise ClusterError(f"{who} sees different {what} of the evidence {name}")
