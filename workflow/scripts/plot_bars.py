from collections import defaultdict

from dd2424.pdf.plots import run_bars
from dd2424.pipeline.results import read_metrics
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    runs = defaultdict(lambda: defaultdict(list))  # {run: {quantity: [value per seed]}}
    for run, path in zip(snakemake.params.runs, snakemake.input.metrics, strict=True):
        metrics = read_metrics(path)
        for quantity in ("test_accuracy", "train_seconds", "stack_size"):
            runs[run][quantity].append(metrics[quantity])
    run_bars(runs, snakemake.output.figure)
    log(f"test accuracy and training time of {len(runs)} runs")
