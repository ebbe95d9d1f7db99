"""report.dfxml: the case's files as Digital Forensics XML (DFXML 1.2), for fiwalk-era tools.

One ``<fileobject>`` per entry with the elements dfxml_python reads (``filename``, ``filesize``,
``alloc``/``unalloc``, ``inode``, the four times, ``hashdigest`` per algorithm); what DFXML has
no element for (location, media type, perceptual hashes, matches, errors) is in the ``triage:``
namespace, which DFXML readers ignore. No generation time is written (the case's start and finish
are), so the same store gives the same bytes. XML 1.0 cannot hold most control characters or
lone surrogates: those are written as visible ``\\xNN``/``\\uNNNN`` escapes, and
``triage:location`` stays the exact, parseable address.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.reports.json_report import match_rows

DFXML_NS = "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"
DC_NS = "http://purl.org/dc/elements/1.1/"
TRIAGE_NS = "urn:triage:dfxml:1"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return _XML_INVALID.sub(
        lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}",
        text,
    )


def _el(parent: ET.Element, tag: str, text: Any = None, ns: str = DFXML_NS, **attrs: Any) -> ET.Element:
    e = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        e.text = xml_text(text)
    return e


def _creator(root: ET.Element, store: CaseStore) -> None:
    tool = store.tool()
    creator = _el(root, "creator", version="1.0")
    _el(creator, "program", tool.get("name", "triage"))
    _el(creator, "version", tool.get("version"))
    build = _el(creator, "build_environment")
    for name, version in sorted((tool.get("dependencies") or {}).items()):
        _el(build, "library", name=name, version=version)
    env = _el(creator, "execution_environment")
    _el(env, "os_sysname", tool.get("platform"))
    _el(env, "command_line", " ".join(store.command_line()))
    _el(env, "start_time", store.started_at)
    if store.finished_at:
        _el(env, "end_time", store.finished_at, ns=TRIAGE_NS)


def _fileobject(parent: ET.Element, f: dict[str, Any], matches: list[dict[str, Any]]) -> None:
    fo = _el(parent, "fileobject")
    _el(fo, "filename", f["path"].lstrip("/"))
    _el(fo, "filesize", f["size"])
    _el(fo, "unalloc" if f["deleted"] else "alloc", 1)
    if f["inode"] is not None:
        _el(fo, "inode", f["inode"])
    for tag in ("mtime", "atime", "ctime", "crtime"):
        if f[tag]:
            _el(fo, tag, f[tag])
    for algorithm in ("md5", "sha1", "sha256"):
        if f[algorithm]:
            _el(fo, "hashdigest", f[algorithm], type=algorithm)
    _el(fo, "location", f["location"], ns=TRIAGE_NS)
    _el(fo, "evidence_id", f["evidence_id"], ns=TRIAGE_NS)
    _el(fo, "status", f["status"], ns=TRIAGE_NS)
    for key in ("media_type", "media_kind", "width", "height", "pdq", "pdq_quality", "phash", "error"):
        if f[key] is not None:
            _el(fo, key, f[key], ns=TRIAGE_NS)
    for flag in f["flags"]:
        _el(fo, "flag", flag, ns=TRIAGE_NS)
    for m in matches:
        _el(
            fo,
            "match",
            None,
            ns=TRIAGE_NS,
            kind=m["kind"],
            algorithm=m["algorithm"],
            distance=m["distance"],
            hashset=m["hashset"],
            role=m["role"],
            entry_id=m["entry_id"] or "",
            category=m["category"] or "",
            known_hash=m["known_hash"],
        )


def render(store: CaseStore) -> bytes:
    ET.register_namespace("", DFXML_NS)
    ET.register_namespace("dc", DC_NS)
    ET.register_namespace("triage", TRIAGE_NS)
    root = ET.Element(f"{{{DFXML_NS}}}dfxml", {"version": "1.2.0"})
    meta = _el(root, "metadata")
    _el(meta, "type", "Disk Image", ns=DC_NS)
    case = store.case_info()
    _el(meta, "case_number", case.case_number, ns=TRIAGE_NS)
    _el(meta, "examiner", case.examiner, ns=TRIAGE_NS)
    _creator(root, store)
    for ev in safe_value(store.evidence()):
        source = _el(root, "source")
        _el(source, "image_filename", ev["source"])
        _el(source, "evidence_id", ev["id"], ns=TRIAGE_NS)
        if ev["size"]:
            _el(source, "image_size", ev["size"])
        for algorithm in ("md5", "sha1", "sha256"):
            if ev[algorithm]:
                _el(source, "hashdigest", ev[algorithm], type=algorithm)
        _el(source, "verification", ev["verification"], ns=TRIAGE_NS)
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in match_rows(store):
        by_file[m["location"]].append(m)
    for f in store.iter_files():
        f = safe_value(f)
        _fileobject(root, f, by_file.get(f["location"], []))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ("<?xml version='1.0' encoding='UTF-8'?>\n" + body + "\n").encode("utf-8")
