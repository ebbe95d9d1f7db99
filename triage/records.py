"""Frozen records that flow through the pipeline: evidence → entries → hashes → matches.

Every record is plain data (picklable, comparable) so it can cross a process boundary and be
written to the case store unchanged. Handles to open evidence never appear here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from triage.locator import Location

# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class SourceSpec:
    """How to open an evidence source again, in any process.

    ``kind`` is one of ``folder``, ``raw``, ``splitraw``, ``ewf``, ``vhdi``, ``vmdk``, ``qcow``;
    ``paths`` are the absolute paths of every segment in order (one for a folder or a plain raw
    image; for a virtual disk the image first, then its parent chain).
    """

    kind: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class VolumeInfo:
    """One partition-table slot, listed in the report even when it holds no file system."""

    label: str  # p1, p2 ... or "fs" for a bare file system, "unalloc"/"meta" for table slots
    offset: int  # bytes from the start of the image
    length: int  # bytes
    description: str  # the partition table's description (e.g. "NTFS / exFAT (0x07)")
    fs_type: str | None  # file system opened there, None if none could be opened
    error: str | None = None  # why no file system could be opened, where one was expected


@dataclass(frozen=True)
class EvidenceInfo:
    """What the examiner needs to know about one evidence item before any file is read."""

    evidence_id: str
    source: str  # the path the examiner gave
    kind: str  # folder | raw | splitraw | ewf | vhdi | vmdk | qcow
    size: int  # logical bytes of the medium (0 for a folder)
    segments: tuple[str, ...] = ()
    stored_md5: str | None = None  # E01 stored hashes
    stored_sha1: str | None = None
    volumes: tuple[VolumeInfo, ...] = ()
    details: tuple[tuple[str, str], ...] = ()  # format metadata (E01 case fields, ...)


@dataclass(frozen=True)
class EntryRef:
    """Plain-data address a worker uses to read an entry's bytes (no open handles).

    For a folder, ``fs_path`` is the absolute path on the examiner's machine. For a disk image,
    ``volume_offset``/``fs_type`` name the file system and ``inode``/``attr_type``/``attr_id``
    the data stream (TSK's meta address form ``inode-type-id``).
    """

    source: SourceSpec
    fs_path: str | None = None
    volume_offset: int | None = None
    fs_type: str | None = None
    inode: int | None = None
    attr_type: int | None = None
    attr_id: int | None = None
    #: A volume inside a container file system: the APFS volume's index in its container
    #: (from 0; ``fs_type`` is ``apfs`` and ``volume_offset`` the container's offset).
    volume_index: int | None = None
    #: An entry inside this one: the chain of archive members / embedded pictures below the
    #: top entry (as in ``Location.members``), read by expanding the top entry again.
    members: tuple[str, ...] = ()
    #: Carved data: ``(absolute byte offset in the medium, length)``; nothing else is needed
    #: to read it again.
    byte_range: tuple[int, int] | None = None
    #: For a folder file: the size listed, so a file changed since the listing is refused
    #: instead of being hashed under the listed name (``inode`` holds its st_ino).
    size: int | None = None


#: What each entry flag means (docs/formats.md says the same, for examiners).
ENTRY_FLAGS: dict[str, str] = {
    "orphan": "no folder names it any more; found among the file system's orphans",
    "realloc": "the name is deleted and its metadata was reused: the content may be another file's",
    "no-meta": "a deleted name whose metadata is gone: only the name is left",
    "meta-unreadable": (
        "an allocated name whose metadata (MFT record, inode) cannot be read: size, times and "
        "content unknown; not deleted"
    ),
    "bad-cluster-map": "NTFS $BadClus:$Bad, a sparse map of bad clusters as long as the volume: not data",
}

#: Evidence-level errors that begin with this say the medium itself is damaged or cut short (a
#: partition table read from its backup, a file system past the image end, folders that reach far
#: fewer files than the allocation maps hold): the scan says so on stderr, not just in its count.
DAMAGE_PREFIX = "damaged: "

#: Entries with these flags are listed, not read: their bytes would be nobody's or nothing.
UNREAD_FLAGS: frozenset[str] = frozenset({"no-meta", "realloc", "bad-cluster-map"})


@dataclass(frozen=True)
class Entry:
    """One regular file (allocated or deleted) found in the evidence, before it is read."""

    evidence_id: str
    location: Location
    path: str  # path inside the file system / folder, as named there ("/" separated)
    size: int
    deleted: bool
    ref: EntryRef
    inode: str | None = None  # meta address as text ("42" or "42-128-3")
    mtime: str | None = None  # UTC ISO-8601, e.g. 2026-11-22T00:30:39Z
    atime: str | None = None
    ctime: str | None = None
    crtime: str | None = None
    #: Facts about the entry (:data:`ENTRY_FLAGS`): "orphan", "realloc", "no-meta",
    #: "meta-unreadable", "bad-cluster-map".
    flags: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- hashing

MediaKind = Literal["picture", "video"]


@dataclass(frozen=True)
class DecodePolicy:
    """How pictures are decoded before perceptual hashing; recorded in the case so a hash can
    be reproduced exactly."""

    draft_jpeg: bool = True  # decode large JPEGs at reduced scale (Pillow draft mode)
    draft_min_side: int = 512  # ... but never below this many pixels on the shorter side
    pdq_squash: int = 512  # larger pictures are resampled to this square (nearest), as Meta's C++
    max_pixels: int = 200_000_000  # larger pictures are refused (decompression bomb)
    max_picture_bytes: int = 512 * 1024 * 1024  # larger files keep crypto hashes only
    #: Hash the picture as displayed (EXIF orientation applied); False hashes the stored pixels,
    #: as Meta's reference hasher does (cases made before this field reproduce with False).
    exif_orientation: bool = True
    #: Perceptual hashes computed for pictures (any of pdq, phash, dhash, ahash, whash).
    algorithms: tuple[str, ...] = ("pdq", "phash")
    #: PDQ of the 8 rotations/mirrors too, as if the turned pixels were hashed (hashing/pdqnumpy.py).
    dihedral: bool = True
    letterbox: bool = True  # PDQ of the picture with uniform borders removed, when it has any
    #: PDQ of a picture smaller than this (longer side, pixels) enlarged to it, searched as one more
    #: variant (``upscaled``): below ~256 px PDQ's filters barely smooth, so a shrunken copy's hash
    #: aliases away from the set's (docs/matching.md measures it). 0: off.
    upscale_below: int = 448
    #: Videos: one frame hashed every this many seconds (None: every frame); 0 or no PDQ: none.
    video_every_seconds: float | None = 1.0
    #: Local-feature signature (ORB) of each picture, for derivative search (triage.hashing.features);
    #: off in cases recorded before it.
    derivatives: bool = False

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class FrameHash:
    """One sampled video frame, vPDQ style: the frame's number from 0, its time in seconds
    (frame number / frame rate, as the vPDQ reference computes it), PDQ hex and quality."""

    frame: int
    timestamp: float
    pdq: str  # 64 hex digits
    quality: int


@dataclass(frozen=True)
class FileHashes:
    """Everything computed from one entry's bytes. ``error`` is a one-line per-file problem;
    the digests stay valid when only the picture decode failed."""

    size_read: int
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    media_type: str | None = None  # e.g. image/jpeg, video/mp4
    media_kind: MediaKind | None = None
    width: int | None = None
    height: int | None = None
    pdq: str | None = None  # 64 hex digits
    pdq_quality: int | None = None
    phash: str | None = None  # 16 hex digits (imagehash)
    error: str | None = None
    #: Files found inside this one (archive members, embedded pictures), flat, each with the
    #: chain of member names below this entry; empty when nothing was expanded.
    children: tuple[ChildFile, ...] = ()
    frames: tuple[FrameHash, ...] = ()  # sampled video frames (vPDQ); empty for pictures
    #: EXIF orientation tag (1-8) of a picture that has one; the hashes are of the picture as
    #: displayed when ``DecodePolicy.exif_orientation``.
    orientation: int | None = None
    #: PDQ of the 8 dihedral transforms as ``(transform, hex)``, "original" first (the same as
    #: ``pdq``; names in DIHEDRAL_NAMES), then ``upscaled`` for a picture under
    #: ``DecodePolicy.upscale_below``.
    pdq_variants: tuple[tuple[str, str], ...] = ()
    #: PDQ quality of the ``upscaled`` variant's enlarged picture, which gates that variant in the
    #: search (used when matching; not stored in the case).
    pdq_upscaled_quality: int | None = None
    pdq_cropped: str | None = None  # PDQ with uniform borders (letterbox, padding) removed
    pdq_cropped_quality: int | None = None
    crop_box: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) kept, in pixels
    dhash: str | None = None  # 16 hex digits (imagehash)
    ahash: str | None = None
    whash: str | None = None
    #: Flags found while reading, added to the entry's (``checksum-error``: bytes from an E01
    #: chunk whose checksum failed, so the digests are of a damaged copy).
    flags: tuple[str, ...] = ()
    #: Local-feature signature (triage.hashing.features.Signature bytes) when
    #: ``DecodePolicy.derivatives``; spilled to the case folder's side file, not the database.
    features: bytes | None = None


@dataclass(frozen=True)
class ChildFile:
    """A file inside an entry: an archive member (at any depth) or an embedded picture.

    ``members`` is the chain below the top entry, e.g. ``("inner.zip", "photos/c.jpg")``;
    ``flags`` holds facts such as ``encrypted`` (listed, not read) or ``embedded``."""

    members: tuple[str, ...]
    size: int
    mtime: str | None
    flags: tuple[str, ...]
    hashes: FileHashes


@dataclass(frozen=True)
class CarvedFile:
    """A picture carved from unallocated space, validated by decoding it."""

    offset: int  # absolute byte offset in the medium
    length: int
    kind: str  # jpeg | png | gif
    hashes: FileHashes


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits on expanding archives, recorded in the case settings. Reaching one is recorded on
    the top entry as its error (the members read so far are kept), never a crash.

    ``max_ratio`` applies per archive once its expanded bytes pass ``ratio_floor`` (small
    archives of text compress well and are no threat). Fields added later have defaults, so
    settings recorded before them still load."""

    expand: bool = True
    max_depth: int = 5
    max_total_bytes: int = 4 * 1024**3
    max_ratio: int = 200
    ratio_floor: int = 16 * 1024**2
    spool_bytes: int = 32 * 1024**2  # larger archives/members spill to a temporary file
    #: Wall time for expanding one top entry: expansion grows with the expanded bytes, not with
    #: the compressed size a worker's time is granted by. The entry's own hashes are kept.
    max_seconds: float = 120.0
    #: Members listed below one top entry (every depth); an archive of empty members costs
    #: time and case rows without any expanded bytes to meter.
    max_members: int = 100_000

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# --------------------------------------------------------------------------- hash sets, matches

#: ``compute_dihedral``'s order, named by the file's relation to the known picture.
DIHEDRAL_NAMES: tuple[str, ...] = (
    "original",  # identity
    "rot270",  # pdqhash turned the file 90 ccw: the file is the known turned 270 ccw
    "rot180",
    "rot90",  # pdqhash turned the file 270 ccw: the file is the known turned 90 ccw
    "flip",  # upside down (top-bottom mirror)
    "mirror",  # left-right mirror
    "transpose",  # mirror across the main diagonal
    "transverse",  # mirror across the other diagonal
)
#: Transform name of a match on the letterbox-cropped hash.
CROPPED = "cropped"
#: Transform name of a match on the hash of a small picture enlarged (DecodePolicy.upscale_below).
UPSCALED = "upscaled"
#: Every value ``Match.transform`` can take for a picture match.
TRANSFORMS: tuple[str, ...] = (*DIHEDRAL_NAMES, CROPPED, UPSCALED)


EXACT_ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256")
PERCEPTUAL_ALGORITHMS: tuple[str, ...] = ("pdq", "phash", "dhash", "ahash", "whash")


@dataclass(frozen=True)
class KnownHash:
    """One hash from a known-hash set. ``value`` is lower-case hex."""

    algorithm: str
    value: str
    entry_id: str | None = None
    category: str | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    line: int | None = None  # line in the source file, for traceability


@dataclass(frozen=True)
class HashSetInfo:
    """A loaded known-hash set as the case records it."""

    path: str
    sha256: str
    format: str
    entries: int
    counts: tuple[tuple[str, int], ...] = ()  # entries per algorithm
    name: str = ""
    role: str = "alert"  # alert (known material) | ignore (known good, e.g. NSRL)
    built_at: str | None = None  # UTC time the compiled index holding it was built
    index: str | None = None  # path of the compiled index it was read from, None for a raw set
    #: The scheme its categories follow when the set says so (``# triage-hashset: scheme=vics``);
    #: None: the format's own (VICS/CAID JSON) or custom.
    category_scheme: str | None = None


@dataclass(frozen=True)
class Match:
    """A file matched a known hash. Perceptual matches always carry their distance."""

    kind: Literal["exact", "perceptual", "derivative"]
    algorithm: str
    distance: int  # 0 for exact matches
    hashset: str  # HashSetInfo.path
    file_hash: str  # the file's hash that matched (hex)
    known_hash: str  # the set's hash (hex)
    entry_id: str | None = None
    category: str | None = None
    name: str | None = None
    role: str = "alert"  # the set's role: alert, or ignore (known good)
    #: Which of the file's PDQ variants matched: a name in triage.hashing.variants.TRANSFORMS
    #: ("original", "mirror", "rot90", ..., "cropped"); None for other matches.
    transform: str | None = None
    video: VideoMatchInfo | None = None  # for algorithm "vpdq": how the two videos overlap
    derivative: DerivativeInfo | None = None  # for kind "derivative": why the file is one


@dataclass(frozen=True)
class DerivativeInfo:
    """Why a file is a derivative of a known picture (triage.hashing.derivative): the number of
    geometrically consistent keypoint pairs, the share of the known picture's area they cover,
    the transform from the known picture to the file (scale; rotation in degrees,
    counter-clockwise) and the matched region in each picture, ``(left, top, right, bottom)`` in
    its own pixels. ``seed`` is the location of the evidence picture that matched the set and
    was searched for (None when the set itself holds the signature: ``hashset build
    --alert-images``)."""

    inliers: int
    coverage: float
    scale: float
    rotation: float
    known_box: tuple[int, int, int, int]
    file_box: tuple[int, int, int, int]
    seed: str | None = None


@dataclass(frozen=True)
class VideoMatchInfo:
    """A vPDQ video match (triage.hashing.video_match): shares of sampled frames of quality >= 50
    that matched, both ways, and the query video's matched time ranges in seconds. The known
    share depends on how densely each side was sampled (docs/video.md)."""

    known_video: str  # the known video's name in the set (the vPDQ list's file stem)
    query_share: float
    known_share: float
    ranges: tuple[tuple[float, float], ...]
    query_frames: int
    known_frames: int
    query_matched: int
    known_matched: int
    mean_distance: float


@dataclass(frozen=True)
class MatchPolicy:
    """Thresholds for perceptual matching (Meta's recommended PDQ defaults)."""

    pdq_max_distance: int = 31
    pdq_min_quality: int = 50
    phash_max_distance: int = 5
    #: The 64-bit thresholds are measured (docs/matching.md, benchmarks/robustness.py): the largest
    #: distance at which distinct pictures of the robustness corpus collide in at most 1 pair in
    #: 2,000. aHash and wHash collide even at 0 on flat drawings: identical hashes only.
    dhash_max_distance: int = 2
    ahash_max_distance: int = 0
    whash_max_distance: int = 0
    #: A video matches a known one when this share of its sampled frames matches (vPDQ frames:
    #: PDQ distance <= pdq_max_distance, quality >= pdq_min_quality on both sides).
    video_min_share: float = 0.8

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class CaseInfo:
    """Chain-of-custody metadata given by the examiner; never invented."""

    case_number: str
    examiner: str
    agency: str | None = None
    notes: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())
