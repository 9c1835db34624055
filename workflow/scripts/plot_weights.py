import json
from pathlib import Path

from dd2424.logs import LineLog
from dd2424.plots import weight_images
from dd2424.results import load_model

with LineLog(snakemake.log[0]) as log:
    labels = json.loads(Path(snakemake.input.meta).read_text())["label_names"]
    weights = {Path(p).parent.parent.name: load_model(p).params["W1"][0] for p in snakemake.input.models}
    weight_images(weights, labels, snakemake.output.figure)
    log(f"drew the weights of {len(weights)} runs")
