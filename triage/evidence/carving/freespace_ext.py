"""ext2/3/4 free space: each block group's block bitmap (one bit per block of the group).

The layouts below name the fields used, as the kernel's ``struct ext4_super_block`` and
``struct ext4_group_desc`` (fs/ext4/ext4.h) define them; all little-endian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytsk3

from triage.evidence.carving.runs import Layout, Run, free_bits, merge, past_end, read_fields

#: ``struct ext4_super_block`` (the superblock starts 1024 bytes into the volume).
SUPERBLOCK: Layout = {
    "blocks_count_lo": (0x04, "<I"),
    "first_data_block": (0x14, "<I"),
    "log_block_size": (0x18, "<I"),
    "blocks_per_group": (0x20, "<I"),
    "inodes_per_group": (0x28, "<I"),
    "magic": (0x38, "<H"),
    "rev_level": (0x4C, "<I"),
    "inode_size": (0x58, "<H"),
    "feature_compat": (0x5C, "<I"),
    "feature_incompat": (0x60, "<I"),
    "feature_ro_compat": (0x64, "<I"),
    "reserved_gdt_blocks": (0xCE, "<H"),
    "desc_size": (0xFE, "<H"),
    "blocks_count_hi": (0x150, "<I"),
    "backup_bgs": (0x24C, "<II"),
}
#: ``struct ext4_group_desc``: the ``_hi`` halves exist with the 64bit feature and descriptors
#: of 64 bytes or more.
GROUP_DESC: Layout = {
    "block_bitmap_lo": (0x00, "<I"),
    "inode_bitmap_lo": (0x04, "<I"),
    "inode_table_lo": (0x08, "<I"),
    "flags": (0x12, "<H"),
}
GROUP_DESC_HI: Layout = {
    "block_bitmap_hi": (0x20, "<I"),
    "inode_bitmap_hi": (0x24, "<I"),
    "inode_table_hi": (0x28, "<I"),
}
EXT_MAGIC = 0xEF53
COMPAT_SPARSE_SUPER2 = 0x200
INCOMPAT_META_BG = 0x10
INCOMPAT_64BIT = 0x80
RO_COMPAT_SPARSE_SUPER = 0x1
RO_COMPAT_GDT_CSUM = 0x10
RO_COMPAT_BIGALLOC = 0x200
RO_COMPAT_METADATA_CSUM = 0x400
BG_BLOCK_UNINIT = 0x2


@dataclass(frozen=True)
class _Geometry:
    """What the superblock says, checked; ``blocks`` is cut to what the image holds."""

    sb: dict
    bs: int
    first_data: int
    bpg: int
    blocks: int
    claimed: int
    groups: int
    desc_size: int
    gdt_blocks: int
    table_blocks: int
    wide: bool


def has_super(group: int, sb: dict) -> bool:
    """Whether ``group`` holds a superblock copy (and so a group descriptor table copy)."""
    if sb["feature_compat"] & COMPAT_SPARSE_SUPER2:  # copies only in group 0 and the two named
        return group == 0 or group in sb["backup_bgs"]
    if group <= 1 or not sb["feature_ro_compat"] & RO_COMPAT_SPARSE_SUPER:  # every group has one
        return True
    for p in (3, 5, 7):
        n = p
        while n < group:
            n *= p
        if n == group:
            return True
    return False


def _geometry(img: pytsk3.Img_Info, offset: int) -> _Geometry:
    sb = read_fields(img.read(offset + 1024, 1024), SUPERBLOCK)
    if sb["magic"] != EXT_MAGIC:
        raise ValueError("no ext superblock")
    incompat, ro_compat = sb["feature_incompat"], sb["feature_ro_compat"]
    if ro_compat & RO_COMPAT_BIGALLOC or incompat & INCOMPAT_META_BG:
        raise ValueError("ext bigalloc/meta_bg layout is not supported")
    wide = bool(incompat & INCOMPAT_64BIT)  # block numbers have high halves, descriptors >= 64 bytes
    blocks = sb["blocks_count_lo"] | (sb["blocks_count_hi"] << 32 if wide else 0)
    desc_size = sb["desc_size"] if wide else 32
    inode_size = sb["inode_size"] if sb["rev_level"] else 128
    first_data, log_bs, bpg, ipg = (
        sb["first_data_block"], sb["log_block_size"], sb["blocks_per_group"], sb["inodes_per_group"],
    )  # fmt: skip
    if log_bs > 6 or not bpg or desc_size < 32 or blocks <= first_data:
        raise ValueError("implausible ext superblock")
    bs = 1024 << log_bs
    if bpg > 8 * bs or inode_size > bs or ipg * inode_size > bpg * bs:
        raise ValueError("implausible ext superblock (group geometry the kernel would refuse)")
    claimed = blocks
    blocks = min(blocks, max(first_data + 1, (int(img.get_size()) - offset) // bs))  # what the image holds
    groups = (blocks - first_data + bpg - 1) // bpg
    return _Geometry(
        sb, bs, first_data, bpg, blocks, claimed, groups, desc_size,
        gdt_blocks=(groups * desc_size + bs - 1) // bs,
        table_blocks=(ipg * inode_size + bs - 1) // bs,
        wide=wide,
    )  # fmt: skip


def _descriptors(img: pytsk3.Img_Info, offset: int, g: _Geometry) -> list[tuple[list[int], int]]:
    """Each group's ``([block bitmap, inode bitmap, inode table], flags)``."""
    gdt = img.read(offset + (g.first_data + 1) * g.bs, g.gdt_blocks * g.bs)
    out = []
    for group in range(g.groups):
        d = read_fields(gdt, GROUP_DESC, group * g.desc_size)
        lo = (d["block_bitmap_lo"], d["inode_bitmap_lo"], d["inode_table_lo"])
        hi = (0, 0, 0)
        if g.wide and g.desc_size >= 64:
            h = read_fields(gdt, GROUP_DESC_HI, group * g.desc_size)
            hi = (h["block_bitmap_hi"], h["inode_bitmap_hi"], h["inode_table_hi"])
        out.append(([a | b << 32 for a, b in zip(lo, hi, strict=True)], d["flags"]))
    return out


def _metadata_by_group(descs: list[tuple[list[int], int]], g: _Geometry) -> dict[int, list[Run]]:
    """Every group's bitmaps and inode table, filed under the group(s) holding them, as (block
    in that group, count): what an uninitialised group has in use besides its superblock copy."""
    inside: dict[int, list[Run]] = {}
    for (bb, ib, it), _ in descs:
        for a, n in ((bb, 1), (ib, 1), (it, g.table_blocks)):
            while n > 0 and g.first_data <= a < g.blocks:
                group, rel = divmod(a - g.first_data, g.bpg)
                piece = min(n, g.bpg - rel)
                inside.setdefault(group, []).append((rel, piece))
                a, n = a + piece, n - piece
    return inside


def ext_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    """Free blocks from each block group's bitmap (one bit per block, the group's blocks only;
    the last group is cut at the block count). A group flagged ``BLOCK_UNINIT`` (honoured only
    with ``uninit_bg``/``metadata_csum``, as the kernel does) has no bitmap written on disk: it
    is free except its superblock/descriptor-table copy and any group's bitmaps and inode table
    placed inside it (``flex_bg`` packs them into a few groups). ``bigalloc`` and ``meta_bg``
    lay out blocks differently and are refused (the volume is then noted, not carved)."""
    g = _geometry(img, offset)
    descs = _descriptors(img, offset, g)
    inside = _metadata_by_group(descs, g)
    uninit_ok = bool(g.sb["feature_ro_compat"] & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM))
    runs: list[Run] = []
    for group, ((bitmap_block, _ib, _it), flags) in enumerate(descs):
        start = g.first_data + group * g.bpg
        count = min(g.bpg, g.blocks - start)
        if uninit_ok and flags & BG_BLOCK_UNINIT:
            used = np.zeros(count, bool)
            spans = [*inside.get(group, [])]
            if has_super(group, g.sb):
                spans.append((0, 1 + g.gdt_blocks + g.sb["reserved_gdt_blocks"]))
            for a, n in spans:
                used[a : a + n] = True
            bitmap = np.packbits(used, bitorder="little").tobytes()
        else:
            if not g.first_data <= bitmap_block < g.blocks:
                raise ValueError(f"ext group {group}: block bitmap at {bitmap_block} is outside the volume")
            bitmap = img.read(offset + bitmap_block * g.bs, (count + 7) >> 3)
        for first, n in free_bits(bitmap, count):
            runs.append((offset + (start + first) * g.bs, n * g.bs))
    return merge(runs) + past_end(img, offset, g.bs, g.claimed)
