from dd2424.pdf.plots import scorecard_figure
from dd2424.pipeline.scorecard import read_scorecard
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    rows = read_scorecard(snakemake.input.table)
    scorecard_figure(rows, snakemake.output.figure)
    log(f"plotted {len(rows)} published numbers against ours")
