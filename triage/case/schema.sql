-- triage case store, schema version 5 (2: hash-set roles and index provenance; 3: picture variants,
-- EXIF orientation, dHash/aHash/wHash, video frames and vPDQ video matches; 4: frame thumbnails;
-- 5: derivative matches, with their details).
--
-- One SQLite file per case (case.sqlite). The scan pipeline is its only writer and commits one
-- transaction per batch, in rollback-journal mode (journal_mode=DELETE), so a killed scan leaves the
-- last committed batch and nothing half-written; a later open rolls a hot journal back.
--
-- Evidence-derived free text (paths, messages) is stored as TEXT, or as a BLOB holding the
-- surrogatepass UTF-8 bytes when the name is not valid Unicode (undecodable bytes), so every name
-- round-trips exactly. Locations are stored as their rendered string (always printable text).
-- JSON columns are written with sorted keys and ASCII escapes, so they round-trip too.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE case_info (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    case_number  TEXT NOT NULL,
    examiner     TEXT NOT NULL,
    agency       TEXT,
    notes        TEXT,
    extra        TEXT NOT NULL,            -- JSON list of [key, value]
    command_line TEXT NOT NULL,            -- JSON list of arguments
    tool         TEXT NOT NULL,            -- JSON object (triage.scan.provenance.tool_info())
    started_at   TEXT NOT NULL,            -- UTC ISO-8601
    finished_at  TEXT
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                    -- JSON
);

CREATE TABLE stages (
    name        TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT
);

CREATE TABLE evidence (
    seq          INTEGER PRIMARY KEY,      -- order in which the examiner named the evidence
    evidence_id  TEXT NOT NULL UNIQUE,
    source       NOT NULL,             -- no declared type: TEXT, or BLOB (see above)
    kind         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    segments     TEXT NOT NULL,            -- JSON list
    stored_md5   TEXT,
    stored_sha1  TEXT,
    details      TEXT NOT NULL,            -- JSON list of [key, value]
    md5          TEXT,
    sha1         TEXT,
    sha256       TEXT,
    verification TEXT NOT NULL DEFAULT 'not computed'
        CHECK (verification IN ('verified', 'mismatch', 'none stored', 'not computed'))
);

CREATE TABLE volumes (
    evidence_id TEXT NOT NULL REFERENCES evidence (evidence_id),
    idx         INTEGER NOT NULL,
    label       TEXT NOT NULL,
    offset      INTEGER NOT NULL,
    length      INTEGER NOT NULL,
    description TEXT NOT NULL,
    fs_type     TEXT,
    error       TEXT,
    PRIMARY KEY (evidence_id, idx)
);

CREATE TABLE hashsets (
    seq     INTEGER PRIMARY KEY,
    path    TEXT NOT NULL UNIQUE,
    sha256  TEXT NOT NULL,
    format  TEXT NOT NULL,
    entries INTEGER NOT NULL,
    counts  TEXT NOT NULL,                 -- JSON list of [algorithm, count]
    name    TEXT NOT NULL DEFAULT '',
    role    TEXT NOT NULL DEFAULT 'alert' CHECK (role IN ('alert', 'ignore')),
    built_at   TEXT,                       -- when the compiled index holding it was built (UTC)
    index_path TEXT,                       -- that index file, NULL for a raw set
    category_scheme TEXT                   -- the scheme the set says its categories follow, or NULL
);

-- One row per entry found in the evidence; ids follow the walk order. The hash columns are filled
-- when the entry's results arrive (state 1) or stay empty when it failed (state 2).
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    evidence_id TEXT NOT NULL REFERENCES evidence (evidence_id),
    location    TEXT NOT NULL,
    path        NOT NULL,              -- no declared type: TEXT, or BLOB (see above)
    size        INTEGER NOT NULL,
    deleted     INTEGER NOT NULL,
    inode       TEXT,
    mtime       TEXT,
    atime       TEXT,
    ctime       TEXT,
    crtime      TEXT,
    flags       TEXT NOT NULL,             -- JSON list
    ref         TEXT NOT NULL,             -- JSON EntryRef, how a worker reads the bytes again
    state       INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),  -- 0 pending, 1 hashed, 2 failed
    size_read   INTEGER,
    md5         TEXT,
    sha1        TEXT,
    sha256      TEXT,
    media_type  TEXT,
    media_kind  TEXT,
    width       INTEGER,
    height      INTEGER,
    pdq         TEXT,
    pdq_quality INTEGER,
    phash       TEXT,
    error,                                 -- no declared type: TEXT, or BLOB
    orientation INTEGER,                   -- EXIF orientation tag (1-8) of a picture that has one
    pdq_variants TEXT,                     -- JSON list of [transform, pdq hex] (8 dihedral variants, upscaled)
    pdq_cropped TEXT,                      -- PDQ with uniform borders removed
    pdq_cropped_quality INTEGER,
    crop_box    TEXT,                      -- JSON [left, top, right, bottom] kept
    dhash       TEXT,
    ahash       TEXT,
    whash       TEXT
);
CREATE INDEX entries_location ON entries (location);
CREATE INDEX entries_state ON entries (state);
-- entries_sha256 and entries_md5 (for examiners who query the database by hash) are made when
-- the scan finishes (CaseStore.finish): one sorted build is much faster than keeping them up to
-- date through 100,000s of result updates in random hash order.

CREATE TABLE matches (
    id             INTEGER PRIMARY KEY,
    entry          INTEGER NOT NULL REFERENCES entries (id),
    kind           TEXT NOT NULL CHECK (kind IN ('exact', 'perceptual', 'derivative')),
    algorithm      TEXT NOT NULL,
    distance       INTEGER NOT NULL,
    hashset        TEXT NOT NULL REFERENCES hashsets (path),
    file_hash      TEXT NOT NULL,
    known_hash     TEXT NOT NULL,
    known_entry_id TEXT,                   -- the hash set's own id for the known hash
    category       TEXT,
    name           TEXT,
    role           TEXT NOT NULL DEFAULT 'alert' CHECK (role IN ('alert', 'ignore')),  -- the set's role
    transform      TEXT,                   -- which of the file's PDQ variants matched (original, mirror, ...)
    video          TEXT,                   -- JSON VideoMatchInfo of a vpdq match
    derivative     TEXT                    -- JSON DerivativeInfo of a derivative match
);
CREATE INDEX matches_entry ON matches (entry);

-- Sampled video frames (vPDQ): one row per hashed frame.
CREATE TABLE frames (
    entry     INTEGER NOT NULL REFERENCES entries (id),
    frame     INTEGER NOT NULL,            -- frame number from 0, in decode order
    timestamp REAL NOT NULL,               -- seconds (frame number / frame rate)
    pdq       TEXT NOT NULL,
    quality   INTEGER NOT NULL,
    PRIMARY KEY (entry, frame)
);

CREATE TABLE errors (
    id          INTEGER PRIMARY KEY,
    entry       INTEGER REFERENCES entries (id),
    evidence_id TEXT,
    location    TEXT,
    message     NOT NULL               -- no declared type: TEXT, or BLOB
);

-- Small JPEG thumbnails of matched pictures (triage.thumbnails), stored so the reports can show
-- them while reading only this database. ``mode`` is how they were made: 'blurred' (greyscale
-- and blurred when stored, so the clear picture is never in a report) or 'clear'.
CREATE TABLE thumbnails (
    entry  INTEGER PRIMARY KEY REFERENCES entries (id),
    mode   TEXT NOT NULL CHECK (mode IN ('blurred', 'clear')),
    width  INTEGER NOT NULL,
    height INTEGER NOT NULL,
    jpeg   BLOB NOT NULL
);

-- Up to three frame thumbnails per matched video (triage.thumbnails), made under the same policy
-- as the picture thumbnails: the first frame of each matched time range of a vPDQ match (then the
-- middle and last matched frames), or the first, middle and last sampled frames of an exact match.
CREATE TABLE frame_thumbnails (
    entry     INTEGER NOT NULL REFERENCES entries (id),
    frame     INTEGER NOT NULL,            -- the sampled frame's number (frames.frame), from 0
    timestamp REAL NOT NULL,               -- seconds, where the frame was read
    mode      TEXT NOT NULL CHECK (mode IN ('blurred', 'clear')),
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    jpeg      BLOB NOT NULL,
    PRIMARY KEY (entry, frame)
);

-- The same events as audit.jsonl; ``line`` holds the exact JSON line whose sha256 the next event
-- chains to.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    action      TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_sha256 TEXT NOT NULL,
    line        TEXT NOT NULL
);
