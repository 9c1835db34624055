from dd2424.logs import LineLog
from dd2424.plots import true_class_histograms
from dd2424.results import load_predictions

with LineLog(snakemake.log[0]) as log:
    predictions = {}
    for run, path in zip(snakemake.params.runs, snakemake.input.predictions, strict=True):
        predictions[run] = load_predictions(path)
    true_class_histograms(predictions, snakemake.output.figure)
    log(f"histograms of {len(predictions)} runs")
