import pandas as pd

from dd2424.pipeline.table import from_metrics
from dd2424.util import atomic
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    if "metrics" in snakemake.input.keys():
        table = from_metrics(snakemake.input.metrics)
    else:
        table = pd.concat([pd.read_csv(p) for p in snakemake.input.tables], ignore_index=True)
    with atomic.written(snakemake.output.table) as tmp:
        table.to_csv(tmp, index=False)
    log(f"{len(table)} trained models in {snakemake.output.table}")
