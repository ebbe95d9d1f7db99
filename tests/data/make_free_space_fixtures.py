"""Build the ext4 free-space fixture: run from the repository root.

    python tests/data/make_free_space_fixtures.py

Writes ``tests/data/free_space/ext4_uninit.img.gz`` (about 20 KB; 3.2 MB unpacked): an ext4
volume of 1 KiB blocks in four groups of 1024 blocks, the last one partial (227 blocks), with
``64bit`` (64-byte group descriptors), ``flex_bg`` (every group's bitmaps and inode table packed
into group 0) and ``metadata_csum``, so mke2fs leaves group 1 ``BLOCK_UNINIT`` (its bitmap never
written; only its superblock and descriptor-table copies are in use). Holds a generated
gradient PNG and a 300 KiB byte pattern, written with ``mke2fs -d`` (no mount needed).

Needs Pillow and e2fsprogs (mke2fs).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parent / "free_space" / "ext4_uninit.img.gz"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        im = Image.new("RGB", (200, 150))
        im.putdata([(x % 256, y % 256, (x * y) % 256) for y in range(150) for x in range(200)])
        im.save(src / "a.png")
        (src / "big.bin").write_bytes(bytes(range(256)) * 1200)
        image = Path(tmp) / "ext4.img"
        with open(image, "wb") as f:
            f.truncate(3300 * 1024)
        features = "64bit,metadata_csum,flex_bg,^resize_inode"
        cmd = ["mke2fs", "-q", "-t", "ext4", "-b", "1024", "-g", "1024", "-N", "64", "-O", features]
        cmd += ["-U", "6c1f4a52-8f3e-4b7a-9d21-3e5f0a7b9c10", "-E", "lazy_itable_init=1", "-d", str(src)]
        env = {**os.environ, "E2FSPROGS_FAKE_TIME": "1600000000"}
        subprocess.run([*cmd, str(image)], check=True, env=env)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as gz:
            gz.write(image.read_bytes())


if __name__ == "__main__":
    main()
