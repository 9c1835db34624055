import os

# One BLAS thread per declared Snakemake thread, set before numpy loads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(snakemake.threads)

from pathlib import Path

from dd2424.experiments import resolve
from dd2424.logs import LineLog
from dd2424.run import train_run

derived = snakemake.input.get("derived") or None
spec = resolve(snakemake.params.spec, snakemake.params.experiment, derived)
with LineLog(snakemake.log[0]) as log:
    train_run(spec, Path(snakemake.input.split[0]).parent, int(snakemake.wildcards.seed),
              dict(snakemake.output.items()), log=log)
