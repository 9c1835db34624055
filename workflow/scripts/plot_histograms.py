from dd2424.pdf.plots import true_class_histograms
from dd2424.pipeline.results import load_predictions
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    predictions = {}
    for run, path in zip(snakemake.params.runs, snakemake.input.predictions, strict=True):
        predictions[run] = load_predictions(path)
    true_class_histograms(predictions, snakemake.output.figure)
    log(f"histograms of {len(predictions)} runs")
