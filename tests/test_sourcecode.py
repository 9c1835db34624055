"""What a job depends on in code: its script and the package modules it imports, by content."""

import os

from dd2424 import sourcecode


def fake_package(tmp_path):
    package = tmp_path / "dd2424"
    package.mkdir(parents=True)
    (package / "model.py").write_text("from .layers import Linear\nimport numpy as np\n")
    (package / "layers.py").write_text("from . import maths\n")
    (package / "maths.py").write_text("X = 1\n")
    (package / "plots.py").write_text("import matplotlib\n")
    (package / "unused.py").write_text("Y = 2\n")
    script = tmp_path / "train.py"
    script.write_text("import json\nfrom dd2424.model import Network\nimport dd2424.plots\n")
    return package, script


def test_a_script_depends_on_every_module_it_imports_directly_or_not(tmp_path):
    package, script = fake_package(tmp_path)
    assert sourcecode.modules(str(script), str(package)) == ("layers", "maths", "model", "plots")


def test_the_digest_follows_content_not_times_or_paths(tmp_path):
    package, script = fake_package(tmp_path / "a")
    before = sourcecode.digest(script, package)
    os.utime(package / "maths.py", (0, 0))  # a touch
    assert sourcecode.digest(script, package) == before
    other_package, other_script = fake_package(tmp_path / "b")  # the same code elsewhere
    assert sourcecode.digest(other_script, other_package) == before
    (package / "unused.py").write_text("Y = 3\n")  # a module the script does not import
    assert sourcecode.digest(script, package) == before
    (package / "maths.py").write_text("X = 2\n")  # one it imports through two others
    assert sourcecode.digest(script, package) != before
