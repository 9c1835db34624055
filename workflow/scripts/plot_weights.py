import json
from pathlib import Path

from dd2424.pdf.plots import weight_images
from dd2424.pipeline.training import load_model
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    labels = json.loads(Path(snakemake.input.meta).read_text(encoding="utf-8"))["label_names"]
    weights = {
        run: load_model(path).params["W1"][0]
        for run, path in zip(snakemake.params.runs, snakemake.input.models, strict=True)
    }
    weight_images(weights, labels, snakemake.output.figure)
    log(f"drew the weights of {len(weights)} runs")
