"""Scan settings: one writer (:meth:`ScanOptions.to_settings`), one reader (``from_settings``)."""

import json

import pytest

from triage.errors import CaseError
from triage.records import ArchiveLimits, DecodePolicy, MatchPolicy
from triage.scan.options import SETTINGS_KEYS, SETTINGS_VERSION, ScanOptions


def _stored(options: ScanOptions) -> dict:
    """The settings as the case store gives them back (JSON text in SQLite)."""
    return json.loads(json.dumps(options.to_settings()))


def test_every_setting_survives_the_case_store():
    options = ScanOptions(
        jobs=3,
        media_only=True,
        perceptual=False,
        hash_evidence=False,
        timeout=7.5,
        min_rate=1234.0,
        formats=("pdf", "dfxml"),
        carve=True,
        archive_limits=ArchiveLimits(max_depth=2, max_members=10),
        decode_policy=DecodePolicy(algorithms=("pdq", "dhash"), upscale_below=0, dihedral=False),
        match_policy=MatchPolicy(pdq_max_distance=20, video_min_share=0.5),
        thumbnails="none",
        verify_after=True,
        sign_key="/keys/lab.pem",
    )
    again = ScanOptions.from_settings(_stored(options), jobs=3)
    assert again == options
    assert set(SETTINGS_KEYS) <= set(options.to_settings())


def test_jobs_and_batch_are_speed_only_and_not_taken_from_the_case():
    stored = _stored(ScanOptions(jobs=7, batch=10))
    again = ScanOptions.from_settings(stored, jobs=2)
    assert again.jobs == 2 and again.batch == ScanOptions().batch


def test_a_version_1_case_migrates_and_a_newer_one_is_refused():
    stored = _stored(ScanOptions())
    del stored["settings_version"]
    del stored["decode_policy"]["upscale_below"]
    assert ScanOptions.from_settings(stored).decode_policy.upscale_below == 0
    stored["settings_version"] = SETTINGS_VERSION + 1
    with pytest.raises(CaseError, match="newer"):
        ScanOptions.from_settings(stored)


def test_unreadable_settings_are_one_case_error():
    stored = _stored(ScanOptions())
    del stored["scan_options"]["carve"]
    with pytest.raises(CaseError, match="cannot be read"):
        ScanOptions.from_settings(stored)
