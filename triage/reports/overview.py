"""What report.html and report.pdf put first: the verdict, the findings and the scan's history.

An analyst opens a report to learn what was found, so both pages lead with one sentence ("3 files
match known pictures: 2 exact, 1 similar; 1 deleted"), then the findings. A *finding* is one
(file, known entry) pair listing every algorithm that agreed: a set row with an MD5 and a SHA-256
that both match one file is one finding, not two (report.json keeps one match per algorithm).
Everything here is computed from the report model and the stored audit events only, in a fixed
order, so the same case store always gives the same page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Match-policy setting holding each perceptual algorithm's threshold (vPDQ frames use PDQ's).
THRESHOLD_KEYS: dict[str, str] = {
    "pdq": "pdq_max_distance", "vpdq": "pdq_max_distance", "phash": "phash_max_distance",
    "dhash": "dhash_max_distance", "ahash": "ahash_max_distance", "whash": "whash_max_distance",
}  # fmt: skip
#: Per-algorithm fields of a match, kept in a finding's ``checks``.
CHECK_FIELDS: tuple[str, ...] = (
    "kind",
    "algorithm",
    "distance",
    "file_hash",
    "known_hash",
    "transform",
    "video",
    "derivative",
)
#: Shown for a category of a set that does not say which scheme its categories follow.
NO_SCHEME = "the set does not say which scheme its categories follow (docs/hashsets.md: scheme=)"
#: Audit events that tell the scan's history, and what the report calls them.
HISTORY_EVENTS: dict[str, str] = {"scan interrupted": "interrupted", "scan resumed": "resumed"}


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def threshold(algorithm: str, settings: dict[str, Any]) -> int | None:
    """The largest distance at which ``algorithm`` matched in this scan (None if not recorded)."""
    key = THRESHOLD_KEYS.get(algorithm)
    value = (settings.get("match_policy") or {}).get(key) if key else None
    return value if isinstance(value, int) else None


def _finding_key(m: dict[str, Any]) -> tuple[Any, ...]:
    """A finding is a file and one known entry: the set's own id when it has one, else the
    entry's category and name (the algorithms of one unnamed row share both)."""
    entry = ("id", m["entry_id"]) if m["entry_id"] is not None else ("row", m["category"], m["name"])
    return (m["location"], m["hashset"], m["role"], *entry)


def findings(matches: list[dict[str, Any]], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (file, known entry) in the order of the first match of each, its ``checks``
    one per algorithm that agreed (exact first), each with the threshold it was held to."""
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for m in matches:
        key = _finding_key(m)
        if key not in grouped:
            grouped[key] = {k: v for k, v in m.items() if k not in CHECK_FIELDS} | {"checks": []}
        check = {k: m.get(k) for k in CHECK_FIELDS}
        check["threshold"] = threshold(m["algorithm"], settings) if m["kind"] == "perceptual" else None
        grouped[key]["checks"].append(check)
    out = []
    for n, f in enumerate(grouped.values(), start=1):
        f["checks"].sort(key=lambda c: (c["kind"] != "exact", c["algorithm"]))
        f["n"] = n
        kinds = {c["kind"] for c in f["checks"]}
        f["kind"] = next(k for k in ("exact", "perceptual", "derivative") if k in kinds)
        out.append(f)
    return out


def _known(kinds: set[str | None]) -> str:
    if kinds == {"picture"}:
        return "known pictures"
    if kinds == {"video"}:
        return "known videos"
    if kinds <= {"picture", "video"}:
        return "known pictures and videos"
    return "known files"


def verdict(report: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, str]:
    """The report's first line: what was found, and whether it can be trusted to be complete.
    ``tone`` is ``bad`` for findings, ``warn`` when nothing was compared, else ``ok``."""
    s = report["summary"]
    alert = [f for f in found if f["role"] == "alert"]
    files = {f["location"]: f for f in alert}
    exact = {f["location"] for f in alert if f["kind"] == "exact"}
    deleted = sum(1 for f in files.values() if f["deleted"])
    kinds = {f.get("media_kind") for f in report["files"] if f["location"] in files}
    notes = []
    if not report["finished_at"]:
        notes.append(
            f"The scan did not finish: {plural(s['pending'], 'file was', 'files were')} not processed."
        )
    if files:
        verb = "matches" if len(files) == 1 else "match"
        hashed = {f["location"] for f in alert if f["kind"] != "derivative"}
        derived = len(set(files) - hashed)  # found only as edited copies
        similar = len(files) - len(exact) - derived
        text = (
            f"{plural(len(files), 'file')} {verb} {_known(kinds)}: {len(exact):,} exact, {similar:,} similar"
        )
        text += f", {derived:,} derivative (edited copies)" if derived else ""
        text += f"; {deleted:,} deleted" if deleted else ""
        if s.get("conflicts"):
            text += f"; {plural(s['conflicts'], 'file')} also in an ignore set (conflict)"
        return {"text": text + ".", "tone": "bad", "notes": " ".join(notes)}
    if not s["files"]:
        return {"text": "No files were found on the evidence: nothing was compared.", "tone": "warn",
                "notes": " ".join(notes)}  # fmt: skip
    alert_sets = [h for h in report["hashsets"] if h["role"] == "alert"]
    if not alert_sets:
        compared = "compared only with known-good sets" if report["hashsets"] else "none compared"
        text = f"No known-hash set was used: {plural(s['files'], 'file')} listed and hashed, {compared}."
        return {"text": text, "tone": "warn", "notes": " ".join(notes)}
    text = (
        f"No file matches a known hash: {plural(s['files'], 'file')} compared with"
        f" {plural(len(alert_sets), 'hash set')}."
    )
    return {"text": text, "tone": "ok", "notes": " ".join(notes)}


def by_category(found: list[dict[str, Any]], legend: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Files with an alert finding per category (a file in two categories counts in both),
    with the scheme's own name for the category where the scheme defines one."""
    meanings = {(c["scheme"], c["value"].casefold()): c["meaning"] for c in legend}
    files: dict[tuple[str, str, str], set[str]] = {}
    for f in found:
        if f["role"] != "alert":
            continue
        key = (f["category_normalised"] or "", f["category_scheme"] or "", f["category"] or "")
        files.setdefault(key, set()).add(f["location"])
    rows = []
    for (label, scheme, written), locations in sorted(files.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        meaning = meanings.get((scheme, written.casefold())) or meanings.get(("*", written.casefold()))
        if meaning is None and label == "custom" and scheme == "custom":
            meaning = NO_SCHEME
        rows.append({"normalised": label, "scheme": scheme, "category": written or None,
                     "meaning": meaning, "files": len(locations)})  # fmt: skip
    return rows


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def duration(seconds: float | None) -> str | None:
    """``4.2 s``, ``3 min 05 s``, ``2 h 01 min``."""
    if seconds is None:
        return None
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def stage_rows(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "duration": duration(_seconds(s["started_at"], s["finished_at"]))} for s in stages]


def history(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """When the scan was interrupted and resumed, and what each resume did again."""
    rows = []
    for e in events:
        what = HISTORY_EVENTS.get(e.get("action", ""))
        if what is None:
            continue
        d = e.get("details") or {}
        if what == "interrupted":
            done, total = d.get("files_done"), d.get("files_total")
            text = (
                f"stopped after {done:,} of {plural(total, 'file')} were hashed" if total is not None else ""
            )
        else:
            pending = d.get("pending") or 0
            text = f"{plural(pending, 'file')} not hashed before were hashed"
            if d.get("dropped_members"):
                text += f"; {plural(d['dropped_members'], 'archive member')} listed again"
            text += "; files hashed before were kept"
        rows.append({"time": e.get("time"), "event": what, "detail": text,
                     "command_line": d.get("command_line")})  # fmt: skip
    return rows


def evidence_with_totals(
    evidence: list[dict[str, Any]], totals: dict[str, tuple[int, int]]
) -> list[dict[str, Any]]:
    """Each evidence item with ``files`` and ``bytes`` listed on it: a folder's own size is 0."""
    return [{**ev, "files": totals.get(ev["id"], (0, 0))[0], "bytes": totals.get(ev["id"], (0, 0))[1]}
            for ev in evidence]  # fmt: skip


def _value_text(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value) or "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(f"{prefix} · {key}" if prefix else str(key), value[key], rows)
    else:
        rows.append((prefix.replace("_", " "), _value_text(value)))


def settings_tables(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded settings as readable tables, one per group (``scan options``...), nested
    values flattened to ``archive limits · max depth``; plain values go in a first "general" one."""
    general: list[tuple[str, str]] = []
    groups = []
    for key in sorted(settings):
        value = settings[key]
        if isinstance(value, dict):
            rows: list[tuple[str, str]] = []
            _flatten("", value, rows)
            groups.append({"title": key.replace("_", " "), "rows": rows})
        else:
            general.append((key.replace("_", " "), _value_text(value)))
    return ([{"title": "general", "rows": general}] if general else []) + groups
