"""What a scan is asked to do and what it reports back: plain records shared by the pipeline,
the command line and the progress display (kept apart so the CLI can import them cheaply)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from triage.records import ArchiveLimits, DecodePolicy, MatchPolicy
from triage.workers import default_jobs


@dataclass(frozen=True)
class ScanOptions:
    """Everything that changes what a scan computes; recorded in the case as settings."""

    jobs: int = field(default_factory=default_jobs)
    media_only: bool = False
    perceptual: bool = True
    hash_evidence: bool = True
    timeout: float = 120.0  # seconds per file, plus size / min_rate
    min_rate: float = 2_000_000.0  # bytes/s a worker is always granted on top of the timeout
    #: Results per database transaction at most; a transaction also ends after 2 s. Each commit
    #: syncs to disk (~17 ms), so small files would spend more time committing than hashing.
    batch: int = 5000
    decode_policy: DecodePolicy = field(default_factory=DecodePolicy)
    match_policy: MatchPolicy = field(default_factory=MatchPolicy)
    formats: tuple[str, ...] = ("json", "html")
    #: Off by default: see docs/formats.md (carving reads all unallocated space and repeats
    #: every recoverable deleted file); ``--carve`` turns it on.
    carve: bool = False
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    thumbnails: str = "blurred"  # none | blurred | clear (triage.thumbnails); recorded by that stage
    verify_after: bool = False  # hash each disk image again after the scan (triage.integrity)
    sign_key: str | None = None  # Ed25519 private key file that signs the manifest

    def as_dict(self) -> dict[str, object]:
        return {
            "jobs": self.jobs,
            "media_only": self.media_only,
            "perceptual": self.perceptual,
            "hash_evidence": self.hash_evidence,
            "timeout": self.timeout,
            "min_rate": self.min_rate,
            "formats": list(self.formats),
            "carve": self.carve,
            "archive_limits": self.archive_limits.as_dict(),
        }


@dataclass
class Progress:
    """A snapshot for the progress display. ``files_total`` is known once listing is done."""

    stage: str = "listing"
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    matches: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    #: A long read of whole evidence media (``--verify-after``): bytes read of all images.
    read_done: int = 0
    read_total: int = 0
    read_label: str = ""


@dataclass(frozen=True)
class ScanResult:
    case_dir: Path
    files: int
    media_files: int
    bytes: int
    matches: int
    matched_files: int
    errors: int
    seconds: float
    reports: tuple[Path, ...]
    #: Evidence ids whose computed hashes differ from those stored in the image (E01).
    integrity_failures: tuple[str, ...] = ()


ProgressFn = Callable[[Progress], None]
