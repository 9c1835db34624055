from pathlib import Path

from dd2424.data.cifar import make_split
from dd2424.pipeline import records
from dd2424.util.logs import LineLog
from dd2424.util.orphan import stop_when_orphaned

with LineLog(snakemake.log[0]) as log:
    stop_when_orphaned(log)  # a job whose Snakemake was killed stops
    make_split(
        Path(snakemake.input.batches[0]).parent,
        snakemake.params.spec,
        Path(snakemake.output.stats).parent,
        record=records.split_record(snakemake.params.spec, snakemake.params.code),
    )
    log(f"wrote split {snakemake.wildcards.split}: {Path(snakemake.output.stats).read_text(encoding='utf-8')}")
