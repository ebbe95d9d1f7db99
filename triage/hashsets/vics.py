"""Project VIC VICS JSON (OData, data model 1.x and 2.0) and the UK's CAID JSON export.

Both are ``{"odata.metadata" | "@odata.context": "<data model URL>", "value": [media, ...]}``;
CAID uses the same media records under a UK namespace (its URL has ``/UK/`` or names CAID), with
categories A, B and C. For each media record: ``MD5``, ``SHA1`` (and ``SHA256`` if present)
become KnownHashes; in ``AlternativeHashes`` a ``PDQ`` value becomes a PDQ KnownHash, and
``PhotoDNA`` (which triage cannot compute) and any other named hash are kept as labels. The
record's ``MediaID`` is the entry id, ``Category`` the category (verbatim, e.g. ``1`` or ``A``),
the first ``MediaFiles`` file name the name, and every other scalar member a label (verbatim,
JSON spelling). A record without any hash triage can match (only PhotoDNA, say) yields nothing.
Records are streamed (:mod:`triage.hashsets.jsonstream`); each keeps the line it starts on.

Two shapes of export are read. The flat ``$metadata#Media`` form has media records in ``value``.
The ``$metadata#Cases`` form has cases in ``value`` (``CaseID``, ``CaseNumber``, ...), each with
its media in a ``Media`` array, and a file may hold several cases: the media of every case are
read as if they were one flat list (streamed one at a time, however large a case), and the case's
``CaseNumber`` / ``CaseID``, when they come before its ``Media``, are kept as labels of its media.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

from triage.hashsets.base import Sniff, algorithm_named, fail, hex_value, shorten
from triage.hashsets.jsonstream import records
from triage.hashsets.source import Source
from triage.records import KnownHash

_ENVELOPE = re.compile(r'^\s*\{\s*"(?:odata\.metadata|@odata\.context)"\s*:\s*"([^"]*)"')
_CAID = re.compile(r"/uk/|caid", re.IGNORECASE)
_DIRECT = (("MD5", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256"))
_CASES = re.compile(r"#cases/?$", re.IGNORECASE)
_CASE_LABELS = ("CaseNumber", "CaseID")
_NOT_LABELS = {"MediaID", "Category", "MD5", "SHA1", "SHA256", "AlternativeHashes", "MediaFiles"}


def envelope_url(head: bytes) -> str | None:
    """The data-model URL when the head starts a VICS/CAID OData document."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8-sig", errors="replace")
    m = _ENVELOPE.match(text)
    return m.group(1) if m else None


class VicsReader:
    description = "Project VIC VICS JSON (OData 'value' array of media; data model 1.x or 2.0)"

    def __init__(self, name: str, caid: bool, description: str) -> None:
        self.name = name
        self.caid = caid
        self.description = description

    def detect(self, sniff: Sniff) -> bool:
        url = envelope_url(sniff.head)
        return url is not None and bool(_CAID.search(url)) == self.caid

    def read(self, source: Source) -> Iterator[KnownHash]:
        meta: dict[str, Any] = {}
        nested = "Media" if _CASES.search(envelope_url(source.head) or "") else None
        case: dict[str, Any] = {}
        for line, media in records(source, "value", meta, nested, case):
            if not isinstance(media, dict):
                raise fail(
                    source, line, f"expected a media record {{...}}, found {shorten(json.dumps(media))}"
                )
            if isinstance(media.get("Media"), list) and not _has_hashes(media):
                yield from _case(source, line, media)  # a case decoded whole (a Cases form not so named)
            else:
                yield from _media(source, line, media, _case_labels(case))


def _has_hashes(record: dict[str, Any]) -> bool:
    return any(key in record for key, _ in _DIRECT) or "AlternativeHashes" in record


def _case(source: Source, line: int, case: dict[str, Any]) -> Iterator[KnownHash]:
    extra = _case_labels(case)
    for media in case["Media"]:
        if not isinstance(media, dict):
            raise fail(source, line, f"expected a media record {{...}}, found {shorten(json.dumps(media))}")
        yield from _media(source, line, media, extra)


def _case_labels(case: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((key, _text(case[key])) for key in _CASE_LABELS if case.get(key) is not None)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _media(
    source: Source, line: int, media: dict[str, Any], extra: tuple[tuple[str, str], ...] = ()
) -> Iterator[KnownHash]:
    entry_id = None if media.get("MediaID") is None else _text(media["MediaID"])
    category = None if media.get("Category") is None else _text(media["Category"])
    files = media.get("MediaFiles") or []
    name = next((f["FileName"] for f in files if isinstance(f, dict) and f.get("FileName")), None)
    labels: list[tuple[str, str]] = [
        (key, _text(value))
        for key, value in media.items()
        if key not in _NOT_LABELS and value is not None and not isinstance(value, list | dict)
    ]
    found: list[tuple[str, str]] = []
    for key, algorithm in _DIRECT:
        if media.get(key):
            found.append(hex_value(source, line, str(media[key]).strip(), algorithm, column=key))
    for alternative in media.get("AlternativeHashes") or []:
        if not isinstance(alternative, dict) or not alternative.get("HashName"):
            raise fail(
                source,
                line,
                f"expected {{'HashName': ..., 'HashValue': ...}}, found {shorten(str(alternative))}",
            )
        hash_name, hash_value = str(alternative["HashName"]), _text(alternative.get("HashValue") or "")
        algorithm = algorithm_named(hash_name)
        if algorithm is None:
            labels.append((hash_name, hash_value))
        else:
            found.append(hex_value(source, line, hash_value.strip(), algorithm, column=hash_name))
    kept = tuple(labels) + extra
    for algorithm, value in found:
        yield KnownHash(algorithm, value, entry_id, category, name, kept, line)


VICS = VicsReader("vics", False, VicsReader.description)
CAID = VicsReader("caid", True, "UK CAID JSON (the VICS data model under the UK namespace; categories A/B/C)")
