"""``triage scan``: options → :func:`triage.scan.pipeline.scan` → progress and a one-line summary."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from triage.case.store import CASE_DB
from triage.cli.cluster_opts import CLUSTER_PARAMS, cluster_options, cluster_scheduler
from triage.cli.custody_opts import check_verify_after, custody_options, resolve
from triage.cli.help import SCAN_REQUIRED, SCAN_SECTIONS, SectionedCommand
from triage.cli.matching_opts import matching_options, resolve_matching
from triage.cli.progress import progress_printer
from triage.cli.text import plural, size_text
from triage.errors import EXIT_MATCHES, EXIT_NO_FILES, EXIT_OK, UsageError
from triage.hashsets.loadtime import RawLoad
from triage.records import MatchPolicy
from triage.scan.options import default_jobs
from triage.scan.pipeline import ScanOptions, ScanResult, scan
from triage.scan.resume import resume, why_not_resumable


@click.command("scan", cls=SectionedCommand, sections=SCAN_SECTIONS, required=SCAN_REQUIRED)
@click.argument("evidence", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--hashset",
    "hashsets",
    multiple=True,
    metavar="FILE",
    help="Alert set: known material, a match is a finding. A set file (any format in docs/hashsets.md)"
    " or an index from 'triage hashset build' (its sets keep their built roles). Repeatable.",
)
@click.option(
    "--ignore-set",
    "ignore_sets",
    multiple=True,
    metavar="FILE",
    help="Ignore set: known good (e.g. NSRL); files only it matches are counted and hidden, a file"
    " also matched by an alert set is a conflict. A set file or an index. Repeatable.",
)
@click.option(
    "--category-scheme",
    metavar="SCHEME",
    help="The scheme the categories of set files (not indexes) follow when a set does not say so"
    " itself: vics, caid or one word naming your lab's own (reports then show vics/caid categories"
    " by name).",
)
@click.option(
    "--inventory-only",
    is_flag=True,
    help="List and hash the evidence without any --hashset (an inventory): without it, a scan with"
    " no alert set is refused, since it would compare nothing and still look clean.",
)
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(path_type=Path),
    help="Case folder to create (must not hold a case already).",
)
@click.option(
    "--resume",
    "resume_dir",
    default=None,
    metavar="CASE_DIR",
    type=click.Path(path_type=Path),
    help="Continue a scan that was killed part-way, with the settings it recorded (only --jobs and"
    " --quiet may be given with it).",
)
@click.option("--case-number", default=None, help="Case number for the custody record.")
@click.option("--examiner", default=None, help="Examiner's name for the custody record.")
@click.option("--agency", default=None, help="Agency or lab.")
@click.option("--notes", default=None, help="Free-text notes recorded in the case.")
@click.option(
    "--evidence-id",
    "evidence_ids",
    multiple=True,
    metavar="ID",
    help="Evidence id for each EVIDENCE in order (default EV1, EV2, ...).",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes (default: CPU count)."
)
@click.option("--media-only", is_flag=True, help="Hash only pictures and videos (by content signature).")
@click.option("--no-evidence-hash", is_flag=True, help="Do not hash whole disk images (faster, less proof).")
@click.option(
    "--pdq-distance",
    type=click.IntRange(0, 256),
    default=MatchPolicy.pdq_max_distance,
    show_default=True,
    help="Largest PDQ Hamming distance reported as a perceptual match.",
)
@click.option(
    "--pdq-quality",
    type=click.IntRange(0, 100),
    default=MatchPolicy.pdq_min_quality,
    show_default=True,
    help="Smallest PDQ quality of a file's hash that may match.",
)
@click.option(
    "--phash-distance",
    type=click.IntRange(0, 64),
    default=MatchPolicy.phash_max_distance,
    show_default=True,
    help="Largest pHash Hamming distance reported as a match.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, None),
    default=120.0,
    show_default=True,
    help="Seconds a worker may spend on one file (plus 1 s for every 2,000,000 bytes) before it is stopped.",
)
@click.option(
    "--carve/--no-carve",
    default=False,
    show_default=True,
    help="Carve JPEG/PNG/GIF from unallocated space (slower; off by default, see docs/formats.md).",
)
@custody_options
@matching_options
@cluster_options
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary (errors still shown).")
@click.pass_context
def scan_cmd(
    ctx: click.Context,
    evidence: tuple[str, ...],
    hashsets: tuple[str, ...],
    ignore_sets: tuple[str, ...],
    category_scheme: str | None,
    inventory_only: bool,
    out: Path | None,
    resume_dir: Path | None,
    case_number: str | None,
    examiner: str | None,
    agency: str | None,
    notes: str | None,
    evidence_ids: tuple[str, ...],
    jobs: int | None,
    media_only: bool,
    no_evidence_hash: bool,
    pdq_distance: int,
    pdq_quality: int,
    phash_distance: int,
    timeout: float,
    carve: bool,
    quiet: bool,
    **report_options: Any,
) -> None:
    """Scan EVIDENCE (disk images, folders, single pictures or videos) into a new case folder.

    EVIDENCE: raw/dd, split raw, E01, VHD/VHDX, VMDK, QCOW images; a folder; or one picture or
    video file. Give each item once.

    Finds every file (deleted ones too), detects pictures and videos by content, hashes them
    (MD5, SHA-1, SHA-256; PDQ and pHash for pictures), matches them against the known-hash sets
    and writes case.sqlite, audit.jsonl, the reports (--format) and MANIFEST.sha256 to --out.

    Exit code 1 means a file matched an alert set (a conflict counts); files matched only by
    --ignore-set sets are known good: counted in the report, never a reason for exit code 1.

    \b
    Example:
      triage scan seized.E01 --hashset known.csv --ignore-set nsrl.idx --out case-001 \\
          --case-number C-2026-001 --examiner "J. Doe" --evidence-id EV1
      triage scan --resume case-001      # after a power loss, kill -9 or Ctrl-C
    """
    cluster = {name: report_options.pop(name) for name in CLUSTER_PARAMS}
    if resume_dir is not None:
        _resume(ctx, resume_dir, jobs, quiet, cluster)
    if out is None:
        raise UsageError("--out CASE_DIR is required (or --resume CASE_DIR to continue a killed scan)")
    if not hashsets and not inventory_only:
        raise UsageError(
            "no --hashset given: the scan would compare nothing with known material; give"
            " --hashset KNOWN, or --inventory-only to list and hash the evidence without one"
        )
    if evidence_ids and len(evidence_ids) != len(evidence):
        raise UsageError(f"{len(evidence_ids)} --evidence-id given for {len(evidence)} evidence items")
    pdq = (pdq_distance, pdq_quality, phash_distance)
    decode_policy, match_policy = resolve_matching(report_options, pdq)
    check_verify_after(report_options, no_evidence_hash)
    fields = {"case_number": case_number, "examiner": examiner, "agency": agency, "notes": notes}
    case, ids, custody_fields = resolve(report_options, fields, evidence_ids, len(evidence))
    options = ScanOptions(
        jobs=jobs or default_jobs(),
        media_only=media_only,
        hash_evidence=not no_evidence_hash,
        timeout=timeout,
        carve=carve,
        decode_policy=decode_policy,
        match_policy=match_policy,
        **custody_fields,
    )
    with (
        _resume_hint(out),
        cluster_scheduler(cluster) as scheduler,
        progress_printer(enabled=not quiet) as on_progress,
    ):
        result = scan(
            list(zip(evidence, ids, strict=True)),
            [(h, "alert") for h in hashsets] + [(h, "ignore") for h in ignore_sets],
            out,
            case,
            options,
            command_line=["triage", *sys.argv[1:]],
            on_progress=on_progress,
            scheduler=scheduler,
            category_scheme=category_scheme,
        )
    _report(result, quiet)


@contextmanager
def _resume_hint(case_dir: Path) -> Iterator[None]:
    """On Ctrl-C, say the exact command that continues the scan (an absolute path, so it works
    from any folder), or why this one cannot be continued."""
    try:
        yield
    except KeyboardInterrupt:
        if (case_dir / CASE_DB).exists():
            reason = why_not_resumable(case_dir)
            if reason is None:
                command = shlex.join(["triage", "scan", "--resume", os.path.abspath(case_dir)])
                click.echo(f"triage: to continue the scan: {command}", err=True)
            else:
                click.echo(f"triage: the scan cannot be continued: {reason}", err=True)
        raise


def _resume(
    ctx: click.Context, case_dir: Path, jobs: int | None, quiet: bool, cluster: dict[str, Any]
) -> None:
    """``--resume``: the case's recorded settings decide everything, so no other option may."""
    given = [
        name
        for name in ctx.params
        if name not in ("resume_dir", "jobs", "quiet", *CLUSTER_PARAMS)
        and ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
    ]
    if given:
        # Each option as spelt on the command line (--hashset, not the parameter's name).
        spelt = {p.name: _spelling(p) for p in ctx.command.params}
        names = ", ".join(spelt.get(n, n) for n in given)
        raise UsageError(
            "--resume uses the case's recorded settings; only --jobs, --quiet and the --cluster options"
            f" may be given ({names})"
        )
    with (
        _resume_hint(case_dir),
        cluster_scheduler(cluster) as scheduler,
        progress_printer(enabled=not quiet) as on_progress,
    ):
        result = resume(
            case_dir,
            jobs=jobs,
            command_line=["triage", *sys.argv[1:]],
            on_progress=on_progress,
            scheduler=scheduler,
        )
    _report(result, quiet)


def _spelling(param: click.Parameter) -> str:
    """An option as the user types it (``--hashset``); an argument by its metavar (``EVIDENCE``)."""
    first = param.opts[0] if param.opts else str(param.name)
    return first if first.startswith("-") else first.upper()


#: Damage notes printed on stderr before the rest are only counted (all are in the report).
MAX_DAMAGE_LINES = 10


def _report(result: ScanResult, quiet: bool) -> None:
    """The one-line summary, warnings, and the exit code: 0 no match, 1 matches (findings: a
    file and one known entry, however many of its hashes agreed), 4 no file found at all."""
    if not quiet:
        click.echo(
            f"{plural(result.files, 'file')}"
            f" ({plural(result.media_files, 'picture/video', 'pictures/videos')}, {size_text(result.bytes)})"
            f" in {result.seconds:.1f} s:"
            f" {plural(result.matches, 'match', 'matches')} in {plural(result.matched_files, 'file')},"
            f" {plural(result.errors, 'error')}. Report: {result.case_dir / 'report.html'}"
        )
    for load in result.raw_loads:
        if load.slow:
            _slow_set_note(load)
    if result.no_files:
        click.echo(
            "triage: warning: no files were found on the evidence (an empty or unmounted folder?):"
            " nothing was compared",
            err=True,
        )
    for eid in result.integrity_failures:
        click.echo(
            f"triage: warning: evidence {eid} failed its integrity check (stored and computed hashes"
            " differ); see the report's errors",
            err=True,
        )
    for note in result.damage[:MAX_DAMAGE_LINES]:
        click.echo(f"triage: warning: damaged evidence {note}", err=True)
    if len(result.damage) > MAX_DAMAGE_LINES:
        more = len(result.damage) - MAX_DAMAGE_LINES
        click.echo(f"triage: warning: {more} more damage notes; see the report's errors", err=True)
    if result.no_files:
        sys.exit(EXIT_NO_FILES)
    sys.exit(EXIT_MATCHES if result.matches else EXIT_OK)


def _slow_set_note(load: RawLoad) -> None:
    """A raw set that loads slowly is loaded again by every scan: say what an index would save."""
    name = os.path.basename(load.path)
    stem = os.path.splitext(name)[0] or name
    index_seconds = load.index_seconds()
    command = shlex.join(["triage", "hashset", "build", load.path, "-o", f"{stem}.idx"])
    click.echo(
        f"triage: note: loading the hash set {name} ({plural(load.hashes, 'hash', 'hashes')}) took"
        f" {load.seconds:.1f} s, and every scan loads it again; compiled once into an index"
        f" ({command}, about {load.build_seconds():.0f} s), the next scan would load it in about"
        f" {index_seconds:.1f} s, about {load.seconds / index_seconds:,.0f}x faster",
        err=True,
    )
