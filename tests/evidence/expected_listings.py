"""Expected listings for corpus images that have no stored listing in ``expected/``.

The fls texts were recorded here with The Sleuth Kit 4.11.1 (``fls -r -p``); for
dfvfs/image.vhd on its logical content (written out with pyvhdi), as fls cannot read VHD.

APFS has no fls reference (TSK 4.11 cannot read it): :data:`APFS_RAW` was written by hand from
what pyfsapfs 20260921 shows for dfvfs/apfs.raw (container with one volume ``apfs_test``):
every regular file as ``(path, identifier, size)``; ``/a_link`` (a symbolic link) and the
folders are not files. ``a_resourcefork`` has an empty data fork; its resource fork is an
extended attribute and is not listed.
"""

from __future__ import annotations

ISO9660_IMAGE_ISO = """\
# fls -r -p -o 0
d/d 1:	A_DIRECT
r/r 4:	A_DIRECT/ANOTHER_
r/r 5:	A_DIRECT/A_FILE
d/d 2:	LOST_FOU
r/r 3:	PASSWORD.TXT
V/V 6:	$OrphanFiles
"""

DFVFS_IMAGE_VHD = """\
# fls -r -p -o 0
d/d 11:	lost+found
d/d 12:	a_directory
r/r 16:	a_directory/another_file
r/r 14:	a_directory/a_file
r/- * 0:	a_directory/.another_file.swp
r/- * 0:	a_directory/another_file~
r/r 15:	passwords.txt
r/- * 0:	passwords.txt~
V/V 17:	$OrphanFiles
-/r * 13:	$OrphanFiles/OrphanFile-13
"""

# (folder lines other than the path to the one deep file trimmed; they are not compared)
FAT32_LOOP = """\
# fls -r -p -o 0
r/r 5:	test_longfilename0.txt
r/r 7:	test0.txt
d/d 9:	test_dir
d/d 60:	test_dir/1
d/d 118:	test_dir/1/11
r/r 150:	test_dir/1/11/111.txt
v/v 2064355:	$MBR
v/v 2064356:	$FAT1
v/v 2064357:	$FAT2
"""

APFS_RAW: set[tuple[str, str, int]] = {
    ("/passwords.txt", "18", 116),
    ("/a_directory/a_file", "17", 53),
    ("/a_directory/another_file", "19", 22),
    ("/a_directory/a_resourcefork", "23", 0),
    ("/.fseventsd/fseventsd-uuid", "22", 36),
    ("/.fseventsd/000000001714941a", "25", 164),
    ("/.fseventsd/000000001714941b", "26", 72),
}

#: md5 of file contents shared by the ext2/ISO/APFS test images (icat on sleuthkit/image.dd).
CONTENT_MD5 = {
    "passwords.txt": "39cb097008d17660abd0539891a672af",
    "a_file": "85bebf486af24792085f769afa46717d",
    "another_file": "d54ff73404ed6041a3bd66850b061bff",
}
