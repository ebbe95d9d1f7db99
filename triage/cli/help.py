"""Help pages that read well with ~30 options: options in named sections, required ones marked,
and the command list with whole descriptions.

Why our own small click subclasses and not rich-click (which does this and more): the sections
and marks are all we need; rich-click would be another dependency on every lab machine, restyle
every help page and error message (colours, boxes) that scripts and our tests read as text, and
tie us to its release pace for a click feature we can keep in about fifty lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

#: A section title and the parameter names (click's ``param.name``) listed in it, in order.
Sections = Sequence[tuple[str, Sequence[str]]]

#: How ``triage scan --help`` groups its options.
SCAN_SECTIONS = (
    ("Evidence", ("evidence_ids", "evidence_descriptions", "media_only", "carve", "no_evidence_hash")),
    (
        "Hash sets and matching",
        (
            "hashsets",
            "ignore_sets",
            "inventory_only",
            "category_scheme",
            "perceptual_hashes",
            "pdq_distance",
            "pdq_quality",
            "phash_distance",
            "dhash_distance",
            "ahash_distance",
            "whash_distance",
            "video_every",
            "video_share",
        ),
    ),
    (
        "Output and custody",
        (
            "out",
            "resume_dir",
            "case_number",
            "examiner",
            "case_file",
            "agency",
            "notes",
            "formats",
            "thumbnails",
            "verify_after",
            "sign_key",
        ),
    ),
    ("Performance", ("jobs", "timeout", "quiet", "cluster", "cluster_ca", "cluster_cert", "cluster_key")),
)
SCAN_REQUIRED = {
    "hashsets": "required, or --inventory-only",
    "out": "required, or --resume",
    "case_number": "required, or in --case-file",
    "examiner": "required, or in --case-file",
}


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists its options in ``sections``; a parameter named in
    ``required`` gets that text as a mark (``[required]``, ``[required, or --inventory-only]``)
    where click alone cannot know it (required unless another option is given). Options in no
    section come last, under "Other options"."""

    def __init__(
        self, *args: Any, sections: Sections = (), required: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sections = tuple(sections)
        self.required = dict(required or {})

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records: dict[str, tuple[str, str]] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):
                continue  # named in the usage line and the description, as click does
            record = param.get_help_record(ctx)
            if record is None or param.name is None:
                continue
            name, text = record
            mark = self.required.get(param.name)
            records[param.name] = (name, f"[{mark}] {text}" if mark else text)
        placed: set[str] = set()
        for title, names in self.sections:
            rows = [records[n] for n in names if n in records]
            placed.update(names)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        rest = [row for name, row in records.items() if name not in placed]
        if rest:
            with formatter.section("Other options"):
                formatter.write_dl(rest)


class WholeHelpGroup(click.Group):
    """A group whose command list shows each command's whole first sentence (click cuts it
    at 45 characters: "Scan EVIDENCE (disk images: raw/dd, split raw, E01; or...")."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
