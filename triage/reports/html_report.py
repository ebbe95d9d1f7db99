"""report.html: one self-contained, printable page for the examiner, the lawyer and the court.

Safety comes first because every name in it comes from seized media:

* Jinja2 autoescaping is on for the whole template, and a ``finalize`` hook turns control,
  bidirectional-override and other invisible characters in every value into visible escapes
  (``\\u202e``), so a name can neither inject markup nor disguise itself (``gpj.exe``).
* A Content-Security-Policy forbids every network load, frame and form; the only style and the
  only script allowed are the inline ones, pinned by their SHA-256 (the script sorts and filters
  the matches table and reads nothing but the page); images only as ``data:`` URIs.
* Pictures and video frames only as stored thumbnails (examiner wellness): blurred and greyscale
  unless the case was scanned with ``--thumbnails clear``, each inside a closed ``<details>``
  that only a deliberate click opens; matches are described by location, hashes and distance.

The page renders the same model as report.json (:func:`json_report.build_report`), so the two
reports always agree and the same case store gives byte-identical HTML.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from triage.case.store import CaseStore
from triage.reports import overview
from triage.reports.derivative_text import MEANING, evidence_line
from triage.reports.json_report import build_report

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
SCRIPT = "report.js"
#: Bits in each perceptual hash, for "distance 12 of 256 bits".
HASH_BITS: dict[str, int] = {"pdq": 256, "phash": 64}
HASH_NAMES: dict[str, str] = {
    "md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "pdq": "PDQ", "phash": "pHash", "orb": "ORB",
}  # fmt: skip
UNKNOWN = "—"

# C0/C1 controls, bidi embeddings/overrides/isolates, zero-width and other invisible format
# characters, line/paragraph separators, interlinear annotations, BOM.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
                        "\u2060-\u206f\u3164\ufeff\ufff9-\ufffb]")  # fmt: skip
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def visible(text: str) -> str:
    """Replace characters that are invisible or reorder text with a visible escape."""
    return _INVISIBLE.sub(_escape_char, text)


def _finalize(value: Any) -> Any:
    """Applied to every ``{{ value }}`` before autoescaping: our own Markup passes unchanged."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return visible(value)
    return value


def match_description(m: dict[str, Any], threshold: int | None = None) -> str:
    """Say "exact · SHA-256" or "perceptual · PDQ · distance 12 of 256 bits; threshold 31"
    (never "identical"); the threshold is the largest distance this scan accepted."""
    name = HASH_NAMES.get(m["algorithm"], m["algorithm"])
    if m["kind"] == "exact":
        return f"exact · {name}"
    if m["kind"] == "derivative":
        d = m.get("derivative") or {}
        covered = round(100 * d.get("coverage", 0))
        return f"derivative · {name} · {d.get('inliers')} matching keypoints, {covered}% covered"
    bits = HASH_BITS.get(m["algorithm"])
    of_bits = f" of {bits} bits" if bits else ""
    limit = f"; threshold {threshold}" if threshold is not None else ""
    return f"perceptual · {name} · distance {m['distance']}{of_bits}{limit}"


def check_description(check: dict[str, Any]) -> str:
    """One algorithm of a finding (:func:`triage.reports.overview.findings`), with its threshold."""
    return match_description(check, check.get("threshold"))


# Break opportunities: after a path or location separator, and inside any run of characters
# long enough to push a table column wider than the page (a hash: every 16 characters).
_SEPARATOR = re.compile(r"(?<=[/>#@:,;| ])")
_RUN, _LONG_RUN = 16, 24


def wrap(value: Any) -> Markup:
    """``value`` escaped, with ``<wbr>`` where a line may break (after ``/``, ``>``, ``#``...),
    so paths and hashes wrap at separators instead of mid-word."""
    if value is None:
        return Markup(UNKNOWN)
    if isinstance(value, Markup):
        return value
    pieces: list[str] = []
    for raw in _SEPARATOR.split(str(value)):  # split before escaping: "\u202e" is no separator
        part = visible(raw)
        if len(part) > _LONG_RUN:
            pieces.extend(part[i : i + _RUN] for i in range(0, len(part), _RUN))
        elif part:
            pieces.append(part)
    return Markup("<wbr>").join(pieces)


def human_size(n: int | None) -> str:
    if n is None:
        return UNKNOWN
    value, unit = float(n), "bytes"
    for next_unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024:
            break
        value, unit = value / 1024, next_unit
    return f"{n:,} bytes" if unit == "bytes" else f"{value:.1f} {unit} ({n:,} bytes)"


def _asset(name: str) -> str:
    return resources.files("triage.reports").joinpath("templates", name).read_text(encoding="utf-8")


def _css() -> str:
    return _asset(STYLESHEET)


def css_string(text: str) -> str:
    """``text`` as a CSS string literal that cannot end the string, the rule or the <style>."""
    safe = " .,_:/"
    escaped = (
        ch if ch.isascii() and (ch.isalnum() or ch in safe) else f"\\{ord(ch):06x}" for ch in visible(text)
    )
    return '"' + "".join(escaped) + '"'


def print_css(case_number: str) -> str:
    """Page margins for printing: the case number at the top of every page, "page N of M" below."""
    return (
        "@page { size: A4; margin: 16mm 12mm 16mm;"
        f" @top-left {{ content: {css_string('Case ' + case_number)};"
        " font: 8pt sans-serif; color: #5b6570; }"
        ' @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; }'
        " }\n"
    )


def _sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def content_security_policy(css: str, script: str | None = None) -> str:
    """No network, no frames, no forms; only this exact stylesheet and script; images only inline."""
    scripts = f"'sha256-{_sha256_b64(script)}'" if script is not None else "'none'"
    return (
        f"default-src 'none'; style-src 'sha256-{_sha256_b64(css)}'; img-src data:; script-src {scripts}; "
        "connect-src 'none'; font-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def thumbnail_uris(thumbnails: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        loc: {**{k: t[k] for k in ("mode", "width", "height")},
              "uri": Markup("data:image/jpeg;base64," + base64.b64encode(t["jpeg"]).decode("ascii"))}
        for loc, t in thumbnails.items()
    }  # fmt: skip


def frame_time(seconds: float) -> str:
    """A frame's time as ``m:ss.s`` (tenths), for the caption under a video frame thumbnail."""
    tenths = round(seconds * 10)
    minutes, rest = divmod(tenths, 600)
    return f"{minutes}:{rest // 10:02d}.{rest % 10}"


def frame_thumbnail_uris(frames: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Video frame thumbnails by location, each with its ``data:`` URI and its time as text."""
    return {
        loc: [{**{k: t[k] for k in ("frame", "mode", "width", "height")}, "time": frame_time(t["timestamp"]),
               "uri": Markup("data:image/jpeg;base64," + base64.b64encode(t["jpeg"]).decode("ascii"))}
              for t in found]
        for loc, found in frames.items()
    }  # fmt: skip


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("triage.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["size"] = human_size
    env.filters["plural"] = overview.plural  # {{ n|plural('file') }}: "1 file", "2 files"
    env.filters["visible"] = visible
    env.filters["wrap"] = wrap
    env.filters["tojson_text"] = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    env.globals.update(
        describe=check_description,
        hash_names=HASH_NAMES,
        hash_bits=HASH_BITS,
        derivative_line=evidence_line,
        derivative_meaning=MEANING,
    )
    return env


Box = tuple[float, float, float, float]


def derivative_outlines(
    report: dict[str, Any], thumbs: dict[str, dict[str, Any]]
) -> dict[str, list[tuple[float, float, float, float]]]:
    """Per matched picture with a thumbnail, the regions its derivative matches found, as
    ``(x, y, width, height)`` in thumbnail pixels (outlined on the thumbnail)."""
    files = {f["location"]: f for f in report["files"]}
    out: dict[str, list[Box]] = {}
    for m in report["matches"]:
        d, t, f = m.get("derivative"), thumbs.get(m["location"]), files.get(m["location"])
        if not d or not t or not f or not f.get("width"):
            continue
        shown = f["height"] if (f.get("orientation") or 0) >= 5 else f["width"]
        k = t["width"] / shown
        left, top, right, bottom = d["file_box"]
        out.setdefault(m["location"], []).append(
            (
                round(left * k, 1),
                round(top * k, 1),
                round((right - left) * k, 1),
                round((bottom - top) * k, 1),
            )
        )
    return out


def render_model(
    report: dict[str, Any],
    thumbnails: dict[str, dict[str, Any]] | None = None,
    frame_thumbnails: dict[str, list[dict[str, Any]]] | None = None,
    events: list[dict[str, Any]] | None = None,
    evidence_totals: dict[str, tuple[int, int]] | None = None,
) -> bytes:
    """The page for a report model; ``events`` (the audit log) gives the scan's interruptions
    and resumes, ``evidence_totals`` what each evidence item holds."""
    css = _css() + print_css(report["case"]["case_number"])
    script = _asset(SCRIPT)
    found = overview.findings(report["matches"], report["settings"])
    matched = {m["location"] for m in report["matches"]}
    html = (
        environment()
        .get_template(TEMPLATE)
        .render(
            r=report,
            css=Markup(css),
            script=Markup(script),
            csp=content_security_policy(css, script),
            command_line=shlex.join(report["command_line"]),
            verdict=overview.verdict(report, found),
            found=found,
            categories=overview.by_category(found, report["categories"]),
            evidence=overview.evidence_with_totals(report["evidence"], evidence_totals or {}),
            history=overview.history(events or []),
            stages=overview.stage_rows(report["stages"]),
            settings=overview.settings_tables(report["settings"]),
            matched_files=[f for f in report["files"] if f["location"] in matched],
            thumbs=thumbnail_uris(thumbnails or {}),
            outlines=derivative_outlines(report, thumbnails or {}),
            derivatives=any(m["kind"] == "derivative" for m in report["matches"]),
            frame_thumbs=frame_thumbnail_uris(frame_thumbnails or {}),
            policy=(report["settings"].get("thumbnails") or {}).get("policy", "none"),
        )
    )
    return html.encode("utf-8")


def render(store: CaseStore) -> bytes:
    return render_model(
        build_report(store, matched_files_only=True),
        store.thumbnails(),
        store.frame_thumbnails(),
        store.audit_events(),
        store.evidence_totals(),
    )
