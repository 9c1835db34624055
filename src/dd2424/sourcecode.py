"""What a job's output depends on in code: the content of its script and of every module it imports.

Snakemake compares code by time (a touched script, a branch switched and
back, a checkout copied elsewhere reran every job, while an edit of a
module the job imports reran nothing).  A rule takes ``digest(script)`` as
a param instead: only a change of content reruns a job, and exactly the
jobs whose script or imported package modules changed.
"""

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "dd2424"


def _imported_modules(path):
    """The package's modules a Python file imports, as names relative to the package ('model', 'data')."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith(f"{PACKAGE}.")}
        elif isinstance(node, ast.ImportFrom):
            inside = node.level > 0 or node.module == PACKAGE or (node.module or "").startswith(f"{PACKAGE}.")
            if not inside:
                continue
            module = (node.module or "").removeprefix(PACKAGE).lstrip(".") if node.level == 0 else node.module
            if module:
                names.add(module.split(".")[0])
            else:  # from dd2424 import model / from . import atomic: the names are modules
                names |= {a.name for a in node.names}
    return names


@cache
def modules(script, package_dir):
    """Every module of the package that ``script`` imports, directly or through another module, sorted."""
    package_dir = Path(package_dir)
    seen, todo = set(), set(_imported_modules(script))
    while todo:
        name = todo.pop()
        path = package_dir / f"{name}.py"
        if name in seen or not path.exists():
            continue
        seen.add(name)
        todo |= _imported_modules(path) - seen
    return tuple(sorted(seen))


def digest(script, package_dir):
    """sha256 (16 hex) of ``script`` and of the content of every package module it imports.

    Paths and times do not enter it: the same code at another path, or
    touched, gives the same digest.
    """
    package_dir = Path(package_dir)
    h = hashlib.sha256(Path(script).read_bytes())
    for name in modules(str(script), str(package_dir)):
        h.update(name.encode())
        h.update((package_dir / f"{name}.py").read_bytes())
    return h.hexdigest()[:16]
