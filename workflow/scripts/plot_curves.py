from collections import defaultdict

from dd2424.pdf.plots import training_curves
from dd2424.pipeline.results import read_history
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    histories = defaultdict(list)
    for run, path in zip(snakemake.params.runs, snakemake.input.histories, strict=True):
        histories[run].append(read_history(path))
    training_curves(dict(histories), snakemake.output.figure, x=snakemake.params.x)
    log(f"plotted {len(histories)} runs")
