"""``triage hashset``: compile known-hash sets into one index file; describe an index or a set."""

from __future__ import annotations

from pathlib import Path

import click

from triage.cli.help import WholeHelpGroup
from triage.cli.text import plural
from triage.errors import HashSetError, UsageError
from triage.hashsets import build_index
from triage.hashsets.compiled import CompiledIndex
from triage.hashsets.describe import describe_set
from triage.hashsets.indexfile import is_index
from triage.inputfiles import require_regular_file


@click.group("hashset", cls=WholeHelpGroup)
def hashset_group() -> None:
    """Compile known-hash sets into an index; describe an index or a set.

    \b
    Example:
      triage hashset build known.csv --ignore NSRLFile.txt -o sets.idx
      triage hashset info sets.idx
    """


@hashset_group.command("build")
@click.argument("sources", nargs=-1, type=click.Path(path_type=str))
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Index file to write.")
@click.option("--alert", "alerts", multiple=True, metavar="SET", help="An alert set (known material).")
@click.option("--ignore", "ignores", multiple=True, metavar="SET", help="An ignore set (known good: NSRL).")
@click.option(
    "--category-scheme",
    metavar="SCHEME",
    help="The scheme the sets' categories follow when a set does not say so itself: vics, caid or"
    " one word naming your lab's own (reports then show vics/caid categories by name).",
)
@click.option(
    "--alert-images",
    "alert_images",
    multiple=True,
    metavar="DIR",
    help="A folder of your own reference pictures: each becomes an entry (id: the file name without"
    " its extension) with its MD5, SHA-1, SHA-256, PDQ and local-feature signature, so scans find"
    " exact, PDQ and derivative copies (crops, turns, screenshots, collages). No pixels are stored.",
)
@click.option(
    "--ignore-images",
    "ignore_images",
    multiple=True,
    metavar="DIR",
    help="A folder of known-good pictures (exact and PDQ hashes; no derivative search).",
)
@click.option(
    "--category", metavar="C", help="The category of the pictures of --alert-images/--ignore-images."
)
def build_cmd(
    sources: tuple[str, ...],
    out: Path,
    alerts: tuple[str, ...],
    ignores: tuple[str, ...],
    category_scheme: str | None,
    alert_images: tuple[str, ...],
    ignore_images: tuple[str, ...],
    category: str | None,
) -> None:
    """Compile SOURCE sets (alert sets) and --alert/--ignore sets into one index file.

    Any mix of formats; each set is read once, streamed. The index records each set's path,
    SHA-256, format, role and counts; 'triage scan --hashset INDEX' uses it like the sets.

    \b
    Example:
      triage hashset build vics.json pdq-list.txt --ignore RDS_minimal.db -o sets.idx
      triage hashset build --alert-images reference-pictures/ --category 1 -o refs.idx
    """
    specs = [(s, "alert") for s in (*sources, *alerts)] + [(s, "ignore") for s in ignores]
    pictures = [(d, "alert", category) for d in alert_images] + [
        (d, "ignore", category) for d in ignore_images
    ]
    if not specs and not pictures:
        raise UsageError("no hash sets given (SOURCE, --alert SET, --ignore SET, --alert-images DIR)")
    if out.exists():
        raise UsageError(f"{out} already exists; choose a new index file name")
    toc = build_index(specs, out, category_scheme=category_scheme, pictures=pictures)
    total = sum(n for alg, n in toc["counts"].items() if alg != "orb")
    signatures = toc["counts"].get("orb", 0)
    extra = f" and {signatures:,} picture signatures" if signatures else ""
    click.echo(f"{out}: {total:,} hashes{extra} from {len(toc['sources'])} sets")
    for folder, name, why in toc.get("unusable", []):
        click.echo(f"  not fully usable: {folder}/{name}: {why}")


@hashset_group.command("info")
@click.argument("path", metavar="SET_OR_INDEX", type=click.Path(path_type=str))
def info_cmd(path: str) -> None:
    """Describe an index (its sets, roles and counts) or, as a dry run, what a scan reads from a set.

    For a set file: its format, hashes per type, its categories as written and as the report
    names them, and problems (the same hash listed twice, or under two categories; hashes
    without a category). A set a scan would refuse is refused here with the same one line.

    \b
    Example:
      triage hashset info sets.idx
      triage hashset info vics-export.json
    """
    require_regular_file(path, "hash-set", HashSetError)  # a pipe would block the sniffing below
    if is_index(path):
        _index_info(path)
    else:
        _set_info(path)


def _index_info(path: str) -> None:
    opened = CompiledIndex(path)
    click.echo(f"index: {opened.path}")
    click.echo(f"built: {opened.built_at}")
    click.echo(f"format version: {opened.toc['format_version']}")
    for number, info in enumerate(opened.infos, 1):
        counts = ", ".join(f"{alg} {n:,}" for alg, n in info.counts)
        click.echo(f"set {number}: {info.path}")
        click.echo(f"  sha256: {info.sha256}")
        click.echo(f"  format: {info.format}")
        click.echo(f"  role: {info.role}")
        if info.category_scheme:
            click.echo(f"  categories: {info.category_scheme} scheme")
        click.echo(f"  entries: {info.entries:,} ({counts})")


def _set_info(path: str) -> None:
    d = describe_set(path)
    info = d.info
    click.echo(f"set: {info.path} (read as a scan reads it, in {d.seconds:.1f} s; not an index)")
    click.echo(f"  sha256: {info.sha256}")
    click.echo(f"  format: {info.format}")
    click.echo(f"  hashes: {info.entries:,} (" + ", ".join(f"{alg} {n:,}" for alg, n in info.counts) + ")")
    declared = " (declared in the set)" if info.category_scheme else ""
    click.echo(f"  category scheme: {d.scheme}{declared}")
    for written, label, n in d.categories:
        click.echo(f"  category {written!r}: {plural(n, 'hash', 'hashes')}, shown as {label}")
    problems = []
    if d.uncategorised:
        problems.append(f"{plural(d.uncategorised, 'hash', 'hashes')} without a category")
    if d.repeated:
        problems.append(f"{plural(d.repeated, 'hash', 'hashes')} listed more than once")
    if d.conflicting:
        problems.append(f"{plural(d.conflicting, 'hash', 'hashes')} listed under two or more categories")
    click.echo("  problems: " + ("; ".join(problems) if problems else "none found"))
