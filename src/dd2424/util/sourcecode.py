"""What a job depends on in code: the content of its script and of every module it imports.

Snakemake compares code by time (a touched script, a branch switched and
back, a checkout copied elsewhere reran every job, while an edit of a
module the job imports reran nothing).  A rule takes ``digest(script)`` as
a param instead: only a change of content reruns a job, and exactly the
jobs whose script or imported package modules changed.

Modules are named by their dotted path inside the package (``nn.model``);
a package's ``__init__`` counts as imported with any of its modules, as
Python runs it first.  Absolute (``from dd2424.nn import model``) and
relative (``from ..util import atomic``, ``from . import layers``) imports
are followed, at any depth.
"""

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "dd2424"


def _file(package_dir, name):
    """The file of module ``name`` ('nn.model', 'nn' or '' for the package itself), or None."""
    base = Path(package_dir, *name.split(".")) if name else Path(package_dir)
    for path in (base.with_suffix(".py") if name else None, base / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


def _with_packages(package_dir, name):
    """``name`` and every package above it that has an ``__init__``: 'nn.model' -> {'nn.model', 'nn', ''}."""
    parts = name.split(".") if name else []
    names = {".".join(parts[:i]) for i in range(len(parts) + 1)}
    return {n for n in names if _file(package_dir, n) is not None}


def _imported_modules(path, package_dir, here=None):
    """The package's modules a Python file imports, by dotted name inside the package.

    ``here``: the dotted name of the package the file is in (None for a file
    outside the package, a workflow script), against which relative imports
    are resolved.
    """
    stat = Path(path).stat()
    return _parsed_imports(str(path), str(package_dir), here, stat.st_mtime_ns, stat.st_size)


# One parse per file version and process: the Snakefile asks for the code of 20 scripts, which share most
# modules (the parses were 40 % of a dry run's time).
@cache
def _parsed_imports(path, package_dir, here, mtime_ns, size):
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {
                a.name.split(".", 1)[1] if "." in a.name else "" for a in node.names if a.name.split(".")[0] == PACKAGE
            }
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if (node.module or "").split(".")[0] != PACKAGE:
                    continue
                module = node.module.removeprefix(PACKAGE).lstrip(".")
            elif here is None:
                continue
            else:
                parts = here.split(".") if here else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                module = ".".join(parts + ([node.module] if node.module else []))
            names.add(module)
            # from dd2424.nn import model, trainer: the names may be modules themselves
            for alias in node.names:
                child = f"{module}.{alias.name}" if module else alias.name
                if _file(package_dir, child) is not None and child.split(".")[-1] != "__init__":
                    names.add(child)
    found = set()
    for name in names:
        found |= _with_packages(package_dir, name)
    return frozenset(found)


@cache
def modules(script, package_dir):
    """Every module of the package that ``script`` imports, directly or through another module, sorted
    (dotted names inside the package; '' is the package's own ``__init__``)."""
    seen, todo = set(), set(_imported_modules(script, package_dir))
    while todo:
        name = todo.pop()
        path = _file(package_dir, name)
        if name in seen or path is None:
            continue
        seen.add(name)
        # A module's relative imports are resolved from its package; an __init__'s from itself.
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo |= _imported_modules(path, package_dir, here) - seen
    return tuple(sorted(seen))


def digest(script, package_dir):
    """sha256 (16 hex) of ``script`` and of the content of every package module it imports.

    Paths and times do not enter it: the same code at another path, or
    touched, gives the same digest.
    """
    h = hashlib.sha256(Path(script).read_bytes())
    for name in modules(str(script), str(package_dir)):
        h.update(name.encode())
        h.update(_file(package_dir, name).read_bytes())
    return h.hexdigest()[:16]


def workflow_script_digest(basedir, script):
    """``digest`` of the workflow's ``workflow/scripts/<script>`` under checkout ``basedir``, with the
    checkout's package: what a job of that script records as its code (a rule's ``code`` param)."""
    return digest(Path(basedir, "workflow", "scripts", script), Path(basedir, "src", "dd2424"))
