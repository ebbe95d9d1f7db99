"""Write the small known-hash-set samples the hash-set tests read.

Run from anywhere: ``python tests/data/hashsets/make_samples.py``. The output is deterministic
(the RDSv3 SQLite fixture's bytes depend on the SQLite library, so its test compares rows).
Exact hashes are digests of the short texts in ``CONTENTS`` (the tests hash the same texts to
build a file's hashes); PDQ values are Meta's C++ reference hashes of the ThreatExchange
``bridge-mods`` photos (pdq/expected/cpp_reference_hashes.csv in the shared corpus); pHash values
are written by hand. Line ends, BOMs and encodings are set byte for byte, which is why this is a
script and not hand-edited files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: The contents whose digests the sets list; the tests import this table.
CONTENTS: dict[str, bytes] = {
    "alpha": b"triage sample alpha\n",
    "bravo": b"triage sample bravo\n",
    "charlie": b"triage sample charlie\n",
    "delta": b"triage sample delta\n",
}

#: bridge-mods reference PDQ hashes (aaa-orig and two edits), quality 100.
PDQ_ORIG = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
PDQ_SHARPEN_A_LOT = "d0f8f0cec0f4a84f0e370a22238f67f0b36a2ef596231e1d73e6a39c4e9c9b22"
PDQ_SHRINK_A_LOT = "d0f8f1ccc0f4a84d0a370a3a228f67f0b36e2ed5b6623e1d33e6339c4e9c9b22"
PHASH_A = "c3c3e1e1f0f0f8f8"
PHASH_B = "0f0f0f0f0f0f0f0f"

#: Line (1-based) of the bad line in malformed.txt.
MALFORMED_LINE = 7


def md5(key: str) -> str:
    return hashlib.md5(CONTENTS[key]).hexdigest()


def sha1(key: str) -> str:
    return hashlib.sha1(CONTENTS[key]).hexdigest()


def sha256(key: str) -> str:
    return hashlib.sha256(CONTENTS[key]).hexdigest()


def samples() -> dict[str, bytes]:
    """File name -> exact bytes."""
    out: dict[str, bytes] = {}

    # Plain MD5 list as a Windows tool writes it: UTF-8 BOM, CRLF, comments, blank lines,
    # upper-case hex.
    lines = ["# Known MD5 hashes (sample)", "", md5("alpha").upper(), md5("bravo"), "  ", "# end"]
    out["plain-md5.txt"] = b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"

    # Plain list mixing every length: MD5, SHA-1, SHA-256 and pHash; LF; no final newline.
    lines = ["# one of each", md5("charlie"), sha1("charlie"), sha256("charlie"), PHASH_A]
    out["plain-mixed.txt"] = "\n".join(lines).encode()

    # A PDQ list: 64 hex digits are SHA-256 unless declared.
    lines = [
        "# bridge-mods reference PDQ hashes",
        "# triage-hashset: algorithm=pdq",
        "# triage-hashset: category=test-pdq",
        PDQ_ORIG,
        PDQ_SHRINK_A_LOT,
    ]
    out["pdq-list.txt"] = ("\n".join(lines) + "\n").encode()

    # UTF-16 LE with BOM, as PowerShell's Out-File writes it.
    out["plain-utf16.txt"] = ("\ufeff" + "\r\n".join([sha1("alpha"), sha1("bravo")]) + "\r\n").encode(
        "utf-16-le"
    )

    # sha256sum output: text mode, binary mode, and an escaped name (backslash in it).
    lines = [
        f"{sha256('alpha')}  photos/alpha.jpg",
        f"{sha256('bravo')} *photos/bravo.jpg",
        f"\\{sha256('charlie')}  photos\\\\charlie.jpg",
    ]
    out["sha256sum.txt"] = ("\n".join(lines) + "\n").encode()

    # md5deep -z: size, hash, name.
    lines = [
        f"{len(CONTENTS['alpha']):>10}  {md5('alpha')}  /case/alpha.txt",
        f"{len(CONTENTS['delta']):>10}  {md5('delta')}  /case/delta.txt",
    ]
    out["md5deep-size.txt"] = ("\n".join(lines) + "\n").encode()

    # CSV with several hash columns, id, category, name and extra columns (kept as labels);
    # a quoted field with a comma; a row with only an MD5; CRLF.
    rows = [
        "MediaID,Category,MD5,SHA-1,sha_256,PDQ,File Name,Source,Notes",
        f"1001,1,{md5('alpha')},{sha1('alpha')},{sha256('alpha')},{PDQ_ORIG},alpha.jpg,lab,",
        f'1002,2,{md5("bravo").upper()},,,,bravo.jpg,lab,"seen twice, once renamed"',
        f"1003,1,{md5('delta')},{sha1('delta')},,,delta.jpg,,",
    ]
    out["known.csv"] = ("\r\n".join(rows) + "\r\n").encode()

    # PowerShell Get-FileHash | Export-Csv: a #TYPE line, quoted cells, an Algorithm column.
    rows = [
        "#TYPE Microsoft.PowerShell.Commands.FileHashInfo",
        '"Algorithm","Hash","Path"',
        f'"SHA256","{sha256("delta").upper()}","C:\\evidence\\delta.txt"',
        f'"MD5","{md5("charlie").upper()}","C:\\evidence\\charlie.txt"',
    ]
    out["powershell.csv"] = ("\r\n".join(rows) + "\r\n").encode()

    # Tab-separated generic hash column typed by length (pHash) and by an algorithm column.
    rows = [
        "hash\thash_type\tcategory",
        f"{PHASH_B}\t\tbars",
        f"{PDQ_SHARPEN_A_LOT}\tpdq\tbridge",
    ]
    out["generic.tsv"] = ("\n".join(rows) + "\n").encode()

    # A plain MD5 list whose line MALFORMED_LINE is not a hash.
    lines = ["# malformed on purpose", md5("alpha"), "", md5("bravo"), "# a comment", md5("charlie")]
    lines.append("xyz")
    assert len(lines) == MALFORMED_LINE
    lines.append(md5("delta"))
    out["malformed.txt"] = ("\n".join(lines) + "\n").encode()

    # Comments only: an empty set is an error.
    out["empty.txt"] = b"# nothing here yet\n\n"
    out.update(more_samples())
    return out


# --------------------------------------------------------------------------- formats of issue 4

#: vPDQ fixture: (frame, quality, pdq, seconds); frames of the bridge-mods reference hashes.
VPDQ_FRAMES = (
    (0, 100, PDQ_ORIG, "0.000"),
    (1, 100, PDQ_SHARPEN_A_LOT, "0.033"),
    (2, 49, PDQ_SHRINK_A_LOT, "0.067"),
)
#: A PhotoDNA value is 144 bytes; this one is made up (base64 of bytes 0..143), kept as a label.
PHOTODNA = base64.b64encode(bytes(range(144))).decode()
#: The fixed time stamp of zip members, so the archive's bytes never change.
ZIP_TIME = (2024, 1, 2, 3, 4, 6)


def nsrl_file_txt(keys: tuple[str, ...]) -> bytes:
    """NSRLFile.txt in the RDS 2.x layout (quoted header, upper-case hex, CRLF as NIST ships it)."""
    rows = ['"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"']
    for number, key in enumerate(keys, start=1):
        crc = f"{zlib.crc32(CONTENTS[key]):08X}"
        rows.append(
            f'"{sha1(key).upper()}","{md5(key).upper()}","{crc}","{key}.txt",{len(CONTENTS[key])},'
            f'{number},"WIN",""'
        )
    return ("\r\n".join(rows) + "\r\n").encode()


def nsrl_zip(keys: tuple[str, ...]) -> bytes:
    """A legacy RDS zip: NSRLFile.txt first, then a version file (stored, fixed time stamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in (
            ("NSRLFile.txt", nsrl_file_txt(keys)),
            ("version.txt", b'"RDSVersion"\r\n"test"\r\n'),
        ):
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)
    return buffer.getvalue()


def encase_hash(md5s: list[str], name: str = "triage sample set", category: str = "Known") -> bytes:
    """An EnCase v1 hash library laid out as The Sleuth Kit's reader (tsk/hashdb/encase.c) reads
    it: signature, version 2 and record count (EnCase 6 layout per the Forensics Wiki), name at
    0x408 and category at 0x458 in UTF-16LE, then 18-byte records (MD5 + 2 zero bytes) at 0x480."""
    header = bytearray(1152)
    header[0:8] = b"HASH\x0d\x0a\xff\x00"
    struct.pack_into("<II", header, 8, 2, 1)
    struct.pack_into("<I", header, 16, len(md5s))
    encoded_name, encoded_category = name.encode("utf-16-le"), category.encode("utf-16-le")
    header[0x408 : 0x408 + len(encoded_name)] = encoded_name
    header[0x458 : 0x458 + len(encoded_category)] = encoded_category
    return bytes(header) + b"".join(bytes.fromhex(m) + b"\x00\x00" for m in md5s)


def vics_json(media: list[dict[str, object]], context: tuple[str, str], one_per_line: bool = True) -> bytes:
    """An OData envelope as Project VIC tools export it; ``one_per_line`` puts each media record
    on its own line (as the contract tests need), otherwise the JSON is indented."""
    key, url = context
    if not one_per_line:
        return (json.dumps({key: url, "value": media}, indent=2) + "\n").encode()
    records = ",\n".join(json.dumps(m) for m in media)
    return f'{{"{key}": "{url}", "value": [\n{records}\n]}}\n'.encode()


#: Data-model URLs of the published VICS models (1.3 and 2.0) and of CAID (UK namespace).
VICS_1 = ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml/$metadata#Media")
VICS_2 = (
    "@odata.context",
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
)
CAID_1 = ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml/UK/$metadata#Media")
VICS_CASES = ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml/$metadata#Cases")


def vics_cases_json() -> bytes:
    """The ``$metadata#Cases`` form a VICS tool exports a case in: ``value`` holds cases, each
    with its media nested in ``Media``; two cases here (the first holds alpha and the
    PhotoDNA-only record, the second bravo), indented as exports are."""
    alpha, bravo, photodna_only = vics_media()
    cases = [
        {"CaseID": "c-17", "CaseNumber": "2026-0042", "Contact": "Lab", "Media": [alpha, photodna_only]},
        {"CaseID": "c-18", "CaseNumber": "2026-0043", "Media": [bravo], "SourceApplicationName": "Griffeye"},
    ]
    key, url = VICS_CASES
    return (json.dumps({key: url, "value": cases}, indent=2) + "\n").encode()


def vics_media(category: object = 1) -> list[dict[str, object]]:
    """Media records following the VICS data model (no public sample exists): MD5/SHA1, size,
    flags, AlternativeHashes with a PhotoDNA (label) and a PDQ (hash), MediaFiles."""
    return [
        {
            "MediaID": 1,
            "Category": category,
            "MD5": md5("alpha").upper(),
            "SHA1": sha1("alpha").upper(),
            "MediaSize": len(CONTENTS["alpha"]),
            "IsPrecategorized": False,
            "VictimIdentified": None,
            "AlternativeHashes": [
                {"HashName": "PhotoDNA", "HashValue": PHOTODNA},
                {"HashName": "PDQ", "HashValue": PDQ_ORIG},
            ],
            "MediaFiles": [{"FileName": "alpha.jpg", "FilePath": "C:\\case\\alpha.jpg"}],
        },
        {"MediaID": 2, "Category": category, "MD5": md5("bravo"), "MediaSize": len(CONTENTS["bravo"])},
        {"MediaID": 3, "Category": 0, "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": PHOTODNA}]},
    ]


def more_samples() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    # hashdeep: header, column line, ## comments as hashdeep writes them, a name with a comma.
    lines = [
        "%%%% HASHDEEP-1.0",
        "%%%% size,md5,sha256,filename",
        "## Invoked from: /case",
        "## $ hashdeep -r photos",
        "## ",
        f"{len(CONTENTS['alpha'])},{md5('alpha')},{sha256('alpha')},/case/photos/alpha.jpg",
        f"{len(CONTENTS['bravo'])},{md5('bravo')},{sha256('bravo')},/case/photos/bravo, copy.jpg",
    ]
    out["hashdeep.txt"] = ("\n".join(lines) + "\n").encode()
    out["NSRLFile.txt"] = nsrl_file_txt(("alpha", "bravo", "charlie"))
    out["nsrl-rds.zip"] = nsrl_zip(("alpha", "delta"))
    # HashKeeper .hsh: the header of the published Z00236.hsh; a row with a directory.
    rows = [
        '"file_id","hashset_id","file_name","directory","hash","file_size","date_modified",'
        '"time_modified","time_zone","comments","date_accessed","time_accessed"',
        f'1,7,"alpha.jpg",,"{md5("alpha").upper()}",{len(CONTENTS["alpha"])},,,,,,',
        f'2,7,"charlie.jpg","C:\\photos\\","{md5("charlie").upper()}",{len(CONTENTS["charlie"])},,,,"renamed",,',
    ]
    out["hashkeeper.hsh"] = ("\r\n".join(rows) + "\r\n").encode()
    out["encase.hash"] = encase_hash([md5("alpha"), md5("bravo"), md5("delta")])
    out["vics-1.json"] = vics_json(vics_media(), VICS_1)
    out["vics-2.json"] = vics_json(vics_media(), VICS_2, one_per_line=False)
    out["caid.json"] = vics_json(vics_media("A"), CAID_1)
    out["vics-cases.json"] = vics_cases_json()
    # ThreatExchange-style PDQ list: hash,quality,id; a tab-separated line; a bare hash.
    lines = [f"{PDQ_ORIG},100,te-1001", f"{PDQ_SHARPEN_A_LOT}\t90\tte-1002", f"{PDQ_SHRINK_A_LOT},85"]
    out["threatexchange.pdq"] = ("\n".join(lines) + "\n").encode()
    out["video-clip.vpdq.txt"] = "".join(f"{f},{q},{h},{t}\n" for f, q, h, t in VPDQ_FRAMES).encode()
    return out


#: The RDSv3 fixture's FILE rows: (key, package id); bravo is listed twice (two packages).
RDSV3_FILES = (("alpha", 1), ("bravo", 1), ("bravo", 2), ("delta", 2))


def write_rdsv3(path: Path, rows: tuple[tuple[str, int], ...] = RDSV3_FILES) -> None:
    """A small NSRL RDSv3-shaped SQLite database built from the published schema (modern/minimal:
    FILE table, DISTINCT_HASH view, PKG/OS/MFG/VERSION tables); no public sample exists."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        """
        PRAGMA page_size = 4096;
        CREATE TABLE VERSION (version TEXT NOT NULL, build_set TEXT NOT NULL, build_date TEXT NOT NULL,
            release_date TEXT NOT NULL, description TEXT NOT NULL, PRIMARY KEY (version));
        CREATE TABLE MFG (manufacturer_id INTEGER NOT NULL, name TEXT NOT NULL,
            PRIMARY KEY (manufacturer_id));
        CREATE TABLE OS (operating_system_id INTEGER NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
            manufacturer_id INTEGER NOT NULL, PRIMARY KEY (operating_system_id));
        CREATE TABLE PKG (package_id INTEGER NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
            operating_system_id INTEGER NOT NULL, manufacturer_id INTEGER NOT NULL, language TEXT NOT NULL,
            application_type TEXT NOT NULL, PRIMARY KEY (package_id));
        CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
            crc32 VARCHAR NOT NULL, file_name TEXT NOT NULL, file_size INTEGER NOT NULL,
            package_id INTEGER NOT NULL);
        CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5 FROM FILE;
        INSERT INTO VERSION
            VALUES ('triage-test', 'modern minimal', '2024-01-02', '2024-01-02', 'test fixture');
        INSERT INTO MFG VALUES (1, 'Triage Sample Works');
        INSERT INTO OS VALUES (1, 'Generic', '1', 1);
        INSERT INTO PKG VALUES (1, 'Samples', '1.0', 1, 1, 'English', 'Test'),
            (2, 'Samples', '2.0', 1, 1, 'English', 'Test');
        """
    )
    db.executemany(
        "INSERT INTO FILE VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                sha256(k).upper(),
                sha1(k).upper(),
                md5(k).upper(),
                f"{zlib.crc32(CONTENTS[k]):08X}",
                f"{k}.txt",
                len(CONTENTS[k]),
                package,
            )
            for k, package in rows
        ],
    )
    db.commit()
    db.close()


def main() -> None:
    for name, data in samples().items():
        (HERE / name).write_bytes(data)
    write_rdsv3(HERE / "nsrl-rdsv3.db")


if __name__ == "__main__":
    main()
