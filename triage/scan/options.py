"""What a scan is asked to do and what it reports back: plain records shared by the pipeline,
the command line and the progress display (kept apart so the CLI can import them cheaply)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.errors import CaseError
from triage.records import ArchiveLimits, DecodePolicy, MatchPolicy
from triage.reports import DEFAULT_FORMATS

if TYPE_CHECKING:
    from triage.hashsets.loadtime import RawLoad

#: Version of the settings layout :meth:`ScanOptions.to_settings` writes. 1: cases made before
#: the version was recorded (and before the upscaled hash: see :func:`_migrate`).
SETTINGS_VERSION = 2
#: Settings keys a scan records (:meth:`ScanOptions.to_settings`); a case without them was made
#: by a triage too old to resume.
SETTINGS_KEYS = ("scan_options", "decode_policy", "match_policy", "custody_options")


def default_jobs() -> int:
    """Worker count when none is given: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


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
    formats: tuple[str, ...] = DEFAULT_FORMATS
    #: Off by default: see docs/formats.md (carving reads all unallocated space and repeats
    #: every recoverable deleted file); ``--carve`` turns it on.
    carve: bool = False
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    thumbnails: str = "blurred"  # none | blurred | clear (triage.scan.thumbnails); recorded by that stage
    verify_after: bool = False  # hash each disk image again after the scan (triage.scan.integrity)
    sign_key: str | None = None  # Ed25519 private key file that signs the manifest

    def as_dict(self) -> dict[str, object]:
        """The options that change what is computed (``scan_options`` in the settings; speed-only
        ones such as ``batch`` are left out)."""
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

    def to_settings(self) -> dict[str, Any]:
        """Everything a case records about how it was scanned, by settings key: what the store
        keeps, the report shows and ``--resume`` reads back with :meth:`from_settings`."""
        return {
            "settings_version": SETTINGS_VERSION,
            "scan_options": self.as_dict(),
            "decode_policy": self.decode_policy.as_dict(),
            "match_policy": self.match_policy.as_dict(),
            # Recorded at the start (thumbnails and verify-after record their own results only
            # when they run), so that a resumed scan finishes exactly as it was asked for.
            "custody_options": {
                "thumbnails": self.thumbnails,
                "verify_after": self.verify_after,
                "sign_key": self.sign_key,
            },
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any], jobs: int | None = None) -> ScanOptions:
        """The options a case recorded, older layouts migrated; ``jobs`` (and ``batch``) change
        only speed and are not taken from the case. A layout this triage cannot read is a
        :class:`~triage.errors.CaseError`."""
        try:
            s = _migrate(settings)
            scan, custody = s["scan_options"], s["custody_options"]
            decode = dict(s["decode_policy"])
            decode["algorithms"] = tuple(decode["algorithms"])
            return cls(
                jobs=jobs or default_jobs(),
                media_only=scan["media_only"],
                perceptual=scan["perceptual"],
                hash_evidence=scan["hash_evidence"],
                timeout=scan["timeout"],
                min_rate=scan["min_rate"],
                formats=tuple(scan["formats"]),
                carve=scan["carve"],
                archive_limits=ArchiveLimits(**scan["archive_limits"]),
                decode_policy=DecodePolicy(**decode),
                match_policy=MatchPolicy(**s["match_policy"]),
                thumbnails=custody["thumbnails"],
                verify_after=custody["verify_after"],
                sign_key=custody["sign_key"],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CaseError(f"the case's recorded settings cannot be read by this triage: {e}") from e


def _migrate(settings: dict[str, Any]) -> dict[str, Any]:
    """Older settings layouts brought to :data:`SETTINGS_VERSION`, step by step; the only place
    that knows what older triage versions recorded."""
    s = {k: (dict(v) if isinstance(v, dict) else v) for k, v in settings.items()}
    version = s.get("settings_version", 1)
    if not isinstance(version, int) or version > SETTINGS_VERSION:
        raise ValueError(f"settings version {version!r} is newer than this triage reads")
    if version < 2:
        # Cases recorded before the upscaled hash were hashed without it: finish them alike.
        s["decode_policy"].setdefault("upscale_below", 0)
    s["settings_version"] = SETTINGS_VERSION
    return s


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
    #: Work an earlier run of a resumed scan had done: rates and ETA count only this run's.
    files_before: int = 0
    bytes_before: int = 0


@dataclass(frozen=True)
class ScanResult:
    case_dir: Path
    files: int
    media_files: int
    bytes: int
    #: Findings: (file, known entry) pairs, however many algorithms agreed on each.
    matches: int
    matched_files: int
    errors: int
    seconds: float
    reports: tuple[Path, ...]
    #: Evidence ids whose computed hashes differ from those stored in the image (E01).
    integrity_failures: tuple[str, ...] = ()
    #: ``EVn: what is wrong`` for each evidence item found damaged or cut short (#12): listed on
    #: stderr so a damaged disk is never read as an empty one.
    damage: tuple[str, ...] = ()
    #: Per-algorithm match rows behind the findings (report.json's ``matches``).
    match_rows: int = 0
    #: The evidence held no file at all (an empty or unmounted folder): nothing was compared.
    no_files: bool = False
    #: Raw sets loaded by this run and how long each took (a slow one earns a note).
    raw_loads: tuple[RawLoad, ...] = ()


ProgressFn = Callable[[Progress], None]
