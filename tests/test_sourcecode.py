"""What a job depends on in code: its script and the package modules it imports, by content."""

import os

from dd2424.util import sourcecode


def fake_package(tmp_path):
    package = tmp_path / "dd2424"
    for floor in ("nn", "util", "pdf", "other"):
        (package / floor).mkdir(parents=True)
        (package / floor / "__init__.py").write_text(f"# {floor}\n")
    (package / "nn" / "model.py").write_text("from .layers import Linear\nimport numpy as np\n")
    (package / "nn" / "layers.py").write_text("from ..util import maths\n")
    (package / "util" / "maths.py").write_text("X = 1\n")
    (package / "pdf" / "plots.py").write_text("import matplotlib\n")
    (package / "other" / "unused.py").write_text("Y = 2\n")
    script = tmp_path / "train.py"
    script.write_text("import json\nfrom dd2424.nn.model import Network\nfrom dd2424.pdf import plots\n")
    return package, script


def test_a_script_depends_on_every_module_it_imports_directly_or_not(tmp_path):
    package, script = fake_package(tmp_path)
    assert sourcecode.modules(str(script), str(package)) == (
        "nn",
        "nn.layers",
        "nn.model",
        "pdf",
        "pdf.plots",
        "util",
        "util.maths",
    )


def test_the_digest_follows_content_not_times_or_paths(tmp_path):
    package, script = fake_package(tmp_path / "a")
    before = sourcecode.digest(script, package)
    os.utime(package / "util" / "maths.py", (0, 0))  # a touch
    assert sourcecode.digest(script, package) == before
    other_package, other_script = fake_package(tmp_path / "b")  # the same code elsewhere
    assert sourcecode.digest(other_script, other_package) == before
    (package / "other" / "unused.py").write_text("Y = 3\n")  # a module the script does not import
    assert sourcecode.digest(script, package) == before
    (package / "util" / "maths.py").write_text("X = 2\n")  # one it imports through two others
    assert sourcecode.digest(script, package) != before


def test_a_package_init_is_code_of_every_module_under_it(tmp_path):
    package, script = fake_package(tmp_path)
    before = sourcecode.digest(script, package)
    (package / "other" / "__init__.py").write_text("# edited\n")  # no module of it is imported
    assert sourcecode.digest(script, package) == before
    (package / "util" / "__init__.py").write_text("# edited\n")  # runs before util.maths is imported
    assert sourcecode.digest(script, package) != before
