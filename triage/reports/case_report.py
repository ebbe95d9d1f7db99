"""report.case.jsonld: the scan in CASE/UCO JSON-LD, for tools that exchange investigations.

The scan is one ``case-investigation:InvestigativeAction``: its instrument is triage (an
``uco-tool:AnalyticTool`` with its version), its performer the examiner, its start and end the
case's times, its objects the evidence items and its results every file found, each a
``uco-observable:File`` with a ``FileFacet`` and a ``ContentDataFacet`` holding its hashes.
Matches are ``uco-core:Annotation``s on the matched files; each evidence item has a
``ProvenanceRecord`` with its evidence id as exhibit number. Identifiers are UUIDv5 of the case
number and a stable key (the location), never random, so the same store gives the same bytes;
the document validates with case-utils' ``case_validate``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.reports.derivative_text import evidence_line
from triage.reports.json_report import match_rows

CONTEXT: dict[str, str] = {
    "kb": "urn:triage:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_NAMESPACE = uuid.UUID("5d4c1f8e-2b1a-5a37-9e4e-7472696167ff")  # triage's own namespace for ids
HASH_METHODS = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256"}
_TIMES = {
    "mtime": "modifiedTime",
    "atime": "accessedTime",
    "ctime": "metadataChangeTime",
    "crtime": "observableCreatedTime",
}


class _Ids:
    def __init__(self, case_number: str) -> None:
        self.case_number = case_number

    def __call__(self, kind: str, key: str) -> str:
        name = "\x00".join((self.case_number, kind, key))
        return f"kb:{kind}-{uuid.uuid5(_NAMESPACE, name)}"


def _time(value: str) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": value}


def _ref(node: dict[str, Any]) -> dict[str, str]:
    return {"@id": node["@id"]}


def _hashes(graph: list[dict[str, Any]], ids: _Ids, key: str, item: dict[str, Any]) -> list[dict[str, str]]:
    refs = []
    for algorithm, method in HASH_METHODS.items():
        if item.get(algorithm):
            node = {
                "@id": ids("Hash", f"{key}\x00{algorithm}"),
                "@type": "uco-types:Hash",
                "uco-types:hashMethod": method,
                "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": item[algorithm]},
            }
            graph.append(node)
            refs.append(_ref(node))
    return refs


def _file(
    graph: list[dict[str, Any]],
    ids: _Ids,
    key: str,
    facet: dict[str, Any],
    item: dict[str, Any],
    size: int | None,
    media_type: str | None = None,
) -> dict[str, Any]:
    file_facet = {"@id": ids("FileFacet", key), "@type": "uco-observable:FileFacet", **facet}
    if size is not None:
        file_facet["uco-observable:sizeInBytes"] = size
    facets = [file_facet]
    hashes = _hashes(graph, ids, key, item)
    if hashes or media_type:
        content: dict[str, Any] = {
            "@id": ids("ContentDataFacet", key),
            "@type": "uco-observable:ContentDataFacet",
        }
        if media_type:
            content["uco-observable:mimeType"] = media_type
        if hashes:
            content["uco-observable:hash"] = hashes
        if size is not None:
            content["uco-observable:sizeInBytes"] = size
        facets.append(content)
    node = {"@id": ids("File", key), "@type": "uco-observable:File", "uco-core:hasFacet": facets}
    graph.append(node)
    return node


def build_graph(store: CaseStore) -> dict[str, Any]:
    """The case as one CASE/UCO graph: the investigation and the scan action first, then the
    tool and examiner, the evidence items, every file and an annotation per match."""
    case = store.case_info()
    ids = _Ids(case.case_number)
    tool = store.tool()
    instrument = {
        "@id": ids("Tool", "triage"),
        "@type": "uco-tool:AnalyticTool",
        "uco-core:name": tool.get("name", "triage"),
        "uco-tool:version": str(tool.get("version")),
    }
    performer = {
        "@id": ids("Identity", case.examiner),
        "@type": "uco-identity:Person",
        "uco-core:name": case.examiner,
    }
    graph: list[dict[str, Any]] = [instrument, performer]
    evidence_refs = _evidence_nodes(store, graph, ids)
    results, by_location = _file_nodes(store, graph, ids)
    graph += _match_annotations(store, ids, by_location)
    action: dict[str, Any] = {
        "@id": ids("InvestigativeAction", "scan"),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": "triage scan",
        "uco-core:description": " ".join(safe_value(store.command_line())),
        "uco-action:instrument": _ref(instrument),
        "uco-action:performer": _ref(performer),
        "uco-action:startTime": _time(store.started_at),
        "uco-action:object": evidence_refs,
        "uco-action:result": results,
    }
    if store.finished_at:
        action["uco-action:endTime"] = _time(store.finished_at)
    investigation = {
        "@id": ids("Investigation", "case"),
        "@type": "case-investigation:Investigation",
        "uco-core:name": case.case_number,
        "uco-core:object": [_ref(action)],
    }
    if case.notes:
        investigation["uco-core:description"] = case.notes
    graph = [investigation, action, *graph]
    return {"@context": CONTEXT, "@graph": safe_value(graph)}


def _evidence_nodes(store: CaseStore, graph: list[dict[str, Any]], ids: _Ids) -> list[dict[str, str]]:
    """Each evidence item as a file object with its provenance record; returns their refs."""
    refs = []
    for ev in safe_value(store.evidence()):
        facet = {
            "uco-observable:fileName": ev["source"].rsplit("/", 1)[-1],
            "uco-observable:filePath": ev["source"],
        }
        node = _file(graph, ids, f"evidence\x00{ev['id']}", facet, ev, ev["size"] or None)
        node["uco-core:description"] = (
            f"evidence {ev['id']} ({ev['kind']}); verification: {ev['verification']}"
        )
        refs.append(_ref(node))
        graph.append(
            {
                "@id": ids("ProvenanceRecord", ev["id"]),
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": ev["id"],
                "uco-core:object": [_ref(node)],
            }
        )
    return refs


def _file_nodes(
    store: CaseStore, graph: list[dict[str, Any]], ids: _Ids
) -> tuple[list[dict[str, str]], dict[str, dict[str, Any]]]:
    """Every file of the case as a file object named by its location, in store order: their
    refs, and the nodes by location (for the match annotations)."""
    results = []
    by_location: dict[str, dict[str, Any]] = {}
    for f in store.iter_files():
        f = safe_value(f)
        facet: dict[str, Any] = {
            "uco-observable:fileName": f["path"].rsplit("/", 1)[-1],
            "uco-observable:filePath": f["path"],
        }
        for key, prop in _TIMES.items():
            if f[key]:
                facet[f"uco-observable:{prop}"] = _time(f[key])
        node = _file(graph, ids, f["location"], facet, f, f["size"], f["media_type"])
        node["uco-core:name"] = f["location"]
        if f["deleted"]:
            node["uco-core:tag"] = ["deleted"]
        results.append(_ref(node))
        by_location[f["location"]] = node
    return results, by_location


def _match_annotations(
    store: CaseStore, ids: _Ids, by_location: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One annotation per match row, saying which algorithm, distance and set entry matched."""
    out = []
    for n, m in enumerate(match_rows(store), start=1):
        why = evidence_line(m["derivative"]) if m.get("derivative") else f"distance {m['distance']}"
        statement = (
            f"{m['kind']} match on {m['algorithm']} ({why}) with hash set"
            f" {m['hashset']} ({m['role']}) entry {m['entry_id']}, category {m['category']}"
        )
        out.append(
            {
                "@id": ids("Annotation", f"{m['location']}\x00{n}"),
                "@type": "uco-core:Annotation",
                "uco-core:statement": safe_value(statement),
                "uco-core:tag": [f"{m['kind']} match"],
                "uco-core:object": [_ref(by_location[m["location"]])],
            }
        )
    return out


def render(store: CaseStore) -> bytes:
    return (json.dumps(build_graph(store), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
