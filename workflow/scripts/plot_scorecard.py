from dd2424.logs import LineLog
from dd2424.plots import scorecard_figure
from dd2424.scorecard import read_scorecard

with LineLog(snakemake.log[0]) as log:
    rows = read_scorecard(snakemake.input.table)
    scorecard_figure(rows, snakemake.output.figure)
    log(f"plotted {len(rows)} published numbers against ours")
