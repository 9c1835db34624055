"""Where the report's numbers came from: the machine, the packages, the commit and config, each report's
training time and memory (Snakemake's benchmark files), and the share of the machine's GEMM rate."""

import glob
import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from dd2424.nn.arithmetic import network_flop_per_sample
from dd2424.nn.spec import hidden_from_label


def benchmarks(bench_dir):
    """Wall time and peak memory per rule group, from Snakemake's benchmark files."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(bench_dir, "**", "*.tsv"), recursive=True)):
        rel = Path(path).relative_to(bench_dir)
        group = "/".join(rel.parts[:2]) if len(rel.parts) > 2 else str(rel.with_suffix(""))
        b = pd.read_csv(path, sep="\t")
        entry = rows.setdefault(group, {"group": group, "jobs": 0, "seconds": 0.0, "max_rss_mb": 0.0})
        entry["jobs"] += 1
        entry["seconds"] += float(b["s"].iloc[0])
        rss = pd.to_numeric(b["max_rss"], errors="coerce").iloc[0]
        if np.isfinite(rss):
            entry["max_rss_mb"] = max(entry["max_rss_mb"], float(rss))
    return list(rows.values())


def machine():
    """What a number depends on beyond the commit and the packages: {"BLAS": its library, version and the
    kernel it chose for this CPU (threadpoolctl), "CPU": the processor's model}.  Two machines with other
    kernels sum the same products in another order, and their models differ within float32 rounding."""
    import threadpoolctl

    libraries = [
        f"{lib['internal_api']} {lib['version']} ({lib.get('architecture') or 'kernel unknown'})"
        for lib in threadpoolctl.threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    return {"BLAS": "; ".join(libraries) or "none found", "CPU": f"{cpu}, {os.cpu_count()} cores"}


def provenance(config, commit, bench_dir, config_checksum, gemm):
    """What the report was made from; ``gemm`` is the workflow's GEMM measurement (gflops, n, threads)."""
    versions = {"python": platform.python_version()}
    for package in ("numpy", "pandas", "matplotlib", "jinja2", "snakemake", "dd2424"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions.update(machine())
    bench = benchmarks(bench_dir)
    return {
        "commit": commit,
        "config_checksum": config_checksum,
        "versions": versions,
        "data_url": config["data"]["url"],
        "data_md5": config["data"]["md5"],
        "benchmarks": bench,
        "total_seconds": sum(b["seconds"] for b in bench),
        "seeds": config["seeds"],
        "gemm": gemm,
    }


def _cell(value):
    """A run-spec value as a table holds it: None for an empty cell, a list for its JSON text ("[4, 8]")."""
    if isinstance(value, str) and value.startswith("["):
        return json.loads(value)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def training_arithmetic(summary, benchmarks, gemm_gflops):
    """Per report (and in all): the useful training TFLOP of its models
    (``arithmetic``, per trained sample), its training jobs' time (every job but
    the gradient check), the GFLOP/s those jobs reached per job second, and that
    rate's share of a float32 GEMM on one core; and the models trained with
    several BLAS threads (``threaded``: how many, with how many threads at
    most, in which experiments)."""

    def row(name, models, flop, seconds):
        gflops = flop / seconds / 1e9 if seconds > 0 else math.nan
        return {
            "part": name,
            "models": models,
            "tflop": flop / 1e12,
            "seconds": seconds,
            "gflops": gflops,
            "share": gflops / gemm_gflops,
        }

    parts = []
    for part, models in summary.groupby("report", sort=False):
        flop = sum(
            m.updates
            * m.n_batch
            * network_flop_per_sample(
                hidden_from_label(m.hidden), *(_cell(getattr(m, k, None)) for k in ("patch_size", "patch_filters"))
            )
            for m in models.itertuples()
        )
        seconds = sum(b["seconds"] for b in benchmarks if b["group"].startswith(f"{part}/"))
        parts.append((part, len(models), flop, seconds))
    total = row("in all", *(sum(p[i] for p in parts) for i in (1, 2, 3)))
    # Models trained with several BLAS threads (training.threads): their sums ran in another order.
    threads = summary["blas_threads"] if "blas_threads" in summary else pd.Series(1, index=summary.index)
    several = summary[threads.fillna(1) > 1]
    threaded = {
        "models": len(several),
        "threads": int(several["blas_threads"].max()) if len(several) else 1,
        "experiments": sorted(set(several["report"] + "/" + several["experiment"])) if len(several) else [],
    }
    return {"parts": [row(*p) for p in parts], "total": total, "threaded": threaded}
