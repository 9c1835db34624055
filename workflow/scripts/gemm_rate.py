import os

# One BLAS thread per declared Snakemake thread, set before numpy loads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(snakemake.threads)

import json

from dd2424.arithmetic import gemm_gflops
from dd2424.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    rate = gemm_gflops()
    log(f"float32 GEMM, 2048 x 2048, {snakemake.threads} thread(s): {rate:.1f} GFLOP/s")
    with open(snakemake.output.rate, "w") as f:
        json.dump({"gflops": rate, "n": 2048, "threads": snakemake.threads}, f, indent=1)
