"""What is wrong with a file that should be the CIFAR-10 .tar.gz, in words.

An md5 that matches proves only that the file is the one data.md5 names,
and a user who took the md5 of a bad copy (a download cut short, a login or
error page saved under the archive's name) gets past it; tarfile then says
only ``EOFError`` or ``ReadError: not a gzip file``.  Here the file is read
through once and the fault is named: empty, a web page, another format,
cut short, or corrupt.
"""

import gzip
import tarfile
import zlib
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


class ArchiveError(ValueError):
    def __init__(self, path, problem):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path} is {problem}")


def _not_gzip(head):
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in text:
        return "a web page, not a gzip archive (the server sent an HTML page: a login, an error or a redirect)"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive, not a gzip archive"
    return f"not a gzip archive (it begins with {head[:16]!r})"


def archive_problem(path):
    """None if ``path`` is a complete gzip stream holding a tar archive, else what is wrong with it."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return "empty (0 bytes)"
    with open(path, "rb") as f:
        head = f.read(512)
    if not head.startswith(GZIP_MAGIC):
        return _not_gzip(head)
    try:
        with gzip.open(path, "rb") as stream:
            first = stream.read(512)
            while stream.read(CHUNK):
                pass
    except EOFError:
        return f"cut short: its gzip stream ends early, after {size:,} bytes (an interrupted download or copy)"
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        return f"corrupt: {e}"
    try:
        tarfile.TarInfo.frombuf(first.ljust(512, b"\0"), tarfile.ENCODING, "surrogateescape")
    except tarfile.HeaderError:
        return "a gzip file that holds no tar archive"
    return None


def check_archive(path, label=None):
    """Raise ArchiveError naming ``label`` (default: the path) if ``path`` is not a whole .tar.gz."""
    found = archive_problem(path)
    if found:
        raise ArchiveError(label or path, found)
