"""report.html: one self-contained, printable page for the examiner, the lawyer and the court.

Safety comes first because every name in it comes from seized media:

* Jinja2 autoescaping is on for the whole template, and a ``finalize`` hook turns control,
  bidirectional-override and other invisible characters in every value into visible escapes
  (``\\u202e``), so a name can neither inject markup nor disguise itself (``gpj.exe``).
* A Content-Security-Policy forbids every network load, script, image, frame and form; the only
  style allowed is the inline stylesheet, pinned by its SHA-256.
* No pictures at all (examiner wellness): matches are described by location, hashes and distance.

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
from triage.reports.json_report import build_report

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
#: Bits in each perceptual hash, for "distance 12 of 256 bits".
HASH_BITS: dict[str, int] = {"pdq": 256, "phash": 64}
HASH_NAMES: dict[str, str] = {
    "md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "pdq": "PDQ", "phash": "pHash",
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


def match_description(m: dict[str, Any]) -> str:
    """Say "exact · sha256" or "perceptual · pdq · distance 12 of 256 bits" (never "identical")."""
    if m["kind"] == "exact":
        return f"exact · {m['algorithm']}"
    bits = HASH_BITS.get(m["algorithm"])
    of_bits = f" of {bits} bits" if bits else ""
    return f"perceptual · {m['algorithm']} · distance {m['distance']}{of_bits}"


def human_size(n: int | None) -> str:
    if n is None:
        return UNKNOWN
    value, unit = float(n), "bytes"
    for next_unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024:
            break
        value, unit = value / 1024, next_unit
    return f"{n:,} bytes" if unit == "bytes" else f"{value:.1f} {unit} ({n:,} bytes)"


def _css() -> str:
    path = resources.files("triage.reports").joinpath("templates", STYLESHEET)
    return path.read_text(encoding="utf-8")


def content_security_policy(css: str) -> str:
    """No network, no scripts, no images; only this exact stylesheet."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; script-src 'none'; "
        "connect-src 'none'; font-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


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
    env.filters["visible"] = visible
    env.filters["tojson_text"] = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    env.globals.update(describe=match_description, hash_names=HASH_NAMES, hash_bits=HASH_BITS)
    return env


def render_model(report: dict[str, Any]) -> bytes:
    css = _css()
    html = (
        environment()
        .get_template(TEMPLATE)
        .render(
            r=report,
            css=Markup(css),
            csp=content_security_policy(css),
            command_line=shlex.join(report["command_line"]),
        )
    )
    return html.encode("utf-8")


def render(store: CaseStore) -> bytes:
    return render_model(build_report(store))
