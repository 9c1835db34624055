import pandas as pd

from dd2424.logs import LineLog
from dd2424.plots import search_scatter

with LineLog(snakemake.log[0]) as log:
    tables = {stage: pd.read_csv(path) for stage, path in zip(snakemake.params.stages, snakemake.input.tables)}
    search_scatter(tables, snakemake.params.searched, snakemake.output.figure)
    log(f"plotted {sum(len(t) for t in tables.values())} points of {list(tables)}")
