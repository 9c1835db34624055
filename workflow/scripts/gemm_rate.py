from dd2424.util.blas import use_threads

# One BLAS thread per declared Snakemake thread, set before numpy loads.
use_threads(snakemake.threads)

import json

from dd2424.nn.arithmetic import GEMM_N, gemm_gflops
from dd2424.util import atomic
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    rate = gemm_gflops()
    log(f"float32 GEMM, {GEMM_N} x {GEMM_N}, {snakemake.threads} thread(s): {rate:.1f} GFLOP/s")
    atomic.write_text(
        snakemake.output.rate, json.dumps({"gflops": rate, "n": GEMM_N, "threads": snakemake.threads}, indent=1)
    )
