import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from dd2424.data.synthetic import write_archive
from dd2424.nn.model import Network
from dd2424.nn.spec import defaults
from dd2424.pipeline.reports import load_reports, load_schema

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests/data/tiny.yaml"
REPORT_SCHEMA = load_schema(ROOT / "workflow/schemas/report.schema.yaml", ROOT / "workflow/schemas/config.schema.yaml")


def shipped_config(**changes):
    """config.yaml (with ``changes`` to its top-level keys) and its report files loaded, as the Snakefile does."""
    config = {**yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")), **changes}
    config["reports"] = load_reports(config, REPORT_SCHEMA, ROOT, ROOT)
    return config


def write_report(directory, report):
    """A report file (a dict) written as YAML; its path."""
    path = Path(directory) / f"{report['id']}.yaml"
    path.write_text(yaml.safe_dump(report, sort_keys=False), encoding="utf-8")
    return path


def tiny_workdir(path):
    """A work directory with a synthetic archive and a data.yaml pointing at it as file://."""
    path.mkdir(parents=True, exist_ok=True)
    md5 = write_archive(path / "cifar-10-python.tar.gz", per_batch=100)
    (path / "data.yaml").write_text(f"data: {{url: '{(path / 'cifar-10-python.tar.gz').as_uri()}', md5: {md5}}}\n")
    return path


def run_snakemake(workdir, *args, check=True, env=None, extra_configs=()):
    """snakemake on the tiny configuration in ``workdir``, as a subprocess.

    The config files come last: ``--configfile`` takes several values and
    would swallow a target named after it.
    """
    configs = [str(TINY), str(workdir / "data.yaml"), *map(str, extra_configs)]
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *args, "--configfile", *configs],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"snakemake {args} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def default_spec(**overrides):
    """A run spec: the declared defaults (the one place they live) with ``overrides``."""
    return {**defaults(), **overrides}


def jittered_network(rng, sizes=(12, 9, 7, 10), **options):
    """A small float64 network for gradient checks: normal biases, and weights
    jittered per model, so that a mix-up between the models of a stack shows."""
    net = Network(list(sizes), init="he", bias_init="normal", sigma=0.5, dtype=np.float64, rng=rng, **options)
    for p in net.params.values():
        p += rng.normal(0, 0.1, p.shape)
    return net


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """(path, md5) of a small synthetic archive in the official layout."""
    path = tmp_path_factory.mktemp("archive") / "cifar-10-python.tar.gz"
    return path, write_archive(path, per_batch=60)
