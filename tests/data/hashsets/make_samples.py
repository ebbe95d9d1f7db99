"""Write the small known-hash-set samples the hash-set tests read.

Run from anywhere: ``python tests/data/hashsets/make_samples.py``. The output is deterministic.
Exact hashes are digests of the short texts in ``CONTENTS`` (the tests hash the same texts to
build a file's hashes); PDQ values are Meta's C++ reference hashes of the ThreatExchange
``bridge-mods`` photos (pdq/expected/cpp_reference_hashes.csv in the shared corpus); pHash values
are written by hand. Line ends, BOMs and encodings are set byte for byte, which is why this is a
script and not hand-edited files.
"""

from __future__ import annotations

import hashlib
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
    return out


def main() -> None:
    for name, data in samples().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
