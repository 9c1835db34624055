from dd2424.util.blas import use_threads

# One BLAS thread per declared Snakemake thread, set before numpy loads.
use_threads(snakemake.threads)

from pathlib import Path

from dd2424.pipeline.experiments import resolve
from dd2424.pipeline.training import train_stack
from dd2424.util.logs import LineLog
from dd2424.util.orphan import stop_when_orphaned

outs = [
    dict(zip(("model", "history", "predictions", "metrics"), files))
    for files in zip(
        snakemake.output.model, snakemake.output.history, snakemake.output.predictions, snakemake.output.metrics
    )
]
with LineLog(snakemake.log[0]) as log:
    # A job whose Snakemake was killed stops instead of training on beside the next run.
    stop_when_orphaned(log)
    # Inside the log: a spec that cannot be resolved leaves its traceback there.
    derived = snakemake.input.get("derived") or None
    specs = [resolve(spec, snakemake.params.derived_by, derived) for spec in snakemake.params.specs]
    train_stack(
        specs,
        Path(snakemake.input.split[0]).parent,
        snakemake.params.seed,
        outs,
        log=log,
        curves=snakemake.params.curves,
        threads=snakemake.threads,
        code_digest=snakemake.params.code,
    )
