from pathlib import Path

from dd2424.data import extract
from dd2424.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    extract(snakemake.input.archive, Path(snakemake.output.meta).parent)
    log(f"unpacked {snakemake.input.archive}")
