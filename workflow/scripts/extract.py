from pathlib import Path

from dd2424.data.cifar import extract
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    extract(snakemake.input.archive, Path(snakemake.output.meta).parent)
    log(f"unpacked {snakemake.input.archive}")
