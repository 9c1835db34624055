import json
from pathlib import Path

from dd2424.logs import LineLog
from dd2424.plots import weight_images
from dd2424.results import load_model

with LineLog(snakemake.log[0]) as log:
    labels = json.loads(Path(snakemake.input.meta).read_text(encoding="utf-8"))["label_names"]
    weights = {
        run: load_model(path).params["W1"][0]
        for run, path in zip(snakemake.params.runs, snakemake.input.models, strict=True)
    }
    weight_images(weights, labels, snakemake.output.figure)
    log(f"drew the weights of {len(weights)} runs")
