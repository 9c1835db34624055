import pandas as pd

from dd2424.pdf.plots import search_scatter
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    tables = {}
    for stage, path, metric in zip(snakemake.params.stages, snakemake.input.tables, snakemake.params.metrics):
        table = pd.read_csv(path)
        if metric != "val_accuracy":  # a stage ranked by its best validation accuracy is drawn by it, so labelled
            stage, table = f"{stage} (best during training)", table.assign(val_accuracy=table[metric])
        tables[stage] = table
    search_scatter(tables, snakemake.params.searched, snakemake.output.figure)
    log(f"plotted {sum(len(t) for t in tables.values())} points of {list(tables)}")
