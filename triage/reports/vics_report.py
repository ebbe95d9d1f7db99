"""report.vics.json: the case's pictures and videos in Project VIC's VICS JSON (data model 1.3),
so a lab can share back what it found and categorised.

One media record per picture or video, in location order (``MediaID`` 1, 2, ...): ``MD5``,
``SHA1``, ``SHA256``, ``MediaSize``, the PDQ hash in ``AlternativeHashes``, the file's name and
path in ``MediaFiles``. ``Category`` is the category of the first alert match whose hash set
uses the VICS scheme (verbatim), otherwise null: triage never invents a category; a match from a
set of another scheme is kept in ``Comments``. triage's own VICS reader reads the export back,
so the known hashes can be fed to the next scan.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.reports.derivative_text import evidence_line
from triage.reports.json_report import match_rows

DATA_MODEL = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml/$metadata#Media"


def _category(matches: list[dict[str, Any]]) -> Any:
    for m in matches:
        if m["role"] == "alert" and m["category_scheme"] == "vics" and m["category"] is not None:
            return int(m["category"]) if str(m["category"]).isdigit() else m["category"]
    return None


def _media(n: int, f: dict[str, Any], matches: list[dict[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {"MediaID": n, "Category": _category(matches)}
    for key, name in (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256")):
        record[name] = f[key].upper() if f[key] else None
    record["MediaSize"] = f["size"]
    record["IsPrecategorized"] = any(m["role"] == "alert" for m in matches)
    record["AlternativeHashes"] = [{"HashName": "PDQ", "HashValue": f["pdq"]}] if f["pdq"] else []
    name = f["path"].rsplit("/", 1)[-1]
    record["MediaFiles"] = [
        {"FileName": name, "FilePath": f["path"], "Location": f["location"], "Unallocated": f["deleted"]}
    ]
    comments = [
        f"{m['kind']} match {m['algorithm']} "
        + (evidence_line(m["derivative"]) if m.get("derivative") else f"distance {m['distance']}")
        + f": {m['hashset']} entry {m['entry_id']} category {m['category']}"
        for m in matches
    ]
    record["Comments"] = "; ".join(comments) if comments else None
    return record


def build_export(store: CaseStore) -> dict[str, Any]:
    by_location: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in match_rows(store):
        by_location[m["location"]].append(m)
    media = []
    for f in store.iter_files():
        if f["media_kind"] not in ("picture", "video") or not (f["md5"] or f["sha1"] or f["sha256"]):
            continue
        media.append(_media(len(media) + 1, safe_value(f), by_location.get(f["location"], [])))
    return {"odata.metadata": DATA_MODEL, "value": media}


def render(store: CaseStore) -> bytes:
    return (json.dumps(build_export(store), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
