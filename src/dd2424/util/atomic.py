"""Write a file under a temporary name beside it and rename it into place.

A job interrupted while writing (killed, out of disk, a lost node) then
leaves its output either absent or whole, never cut short under its final
name where the next run, or a reader, could take it for done.

The temporary file is created with an ordinary ``open`` (exclusive, a
random name), so its mode follows the umask like any other file of the
workflow's; ``tempfile.mkstemp`` would make it 0600, and the rename would
keep that, unreadable to the rest of a group sharing ``results/``.
"""

import contextlib
import os
import secrets
from pathlib import Path


def partial_name(dest):
    """A hidden name beside ``dest`` keeping its suffix (numpy and matplotlib choose the format by it)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.stem}.part-{secrets.token_hex(4)}{dest.suffix}")


def is_partial(path):
    """Whether ``path`` is the leftover of an interrupted ``written`` (safe to delete)."""
    name = Path(path).name
    return name.startswith(".") and ".part-" in name


@contextlib.contextmanager
def written(dest):
    """Yield a temporary path beside ``dest``; on a clean exit it replaces ``dest``.

    ``with written(out) as tmp: np.save(tmp, a)``.  On an exception the
    temporary file is removed and ``dest`` is left as it was.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_name(dest)
    open(tmp, "xb").close()  # claim the name; the mode is 0666 less the umask
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(dest, text):
    with written(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
