from pathlib import Path

import numpy as np

from dd2424.logs import LineLog
from dd2424.plots import true_class_histograms

with LineLog(snakemake.log[0]) as log:
    predictions = {}
    for path in snakemake.input.predictions:
        with np.load(path) as f:
            predictions[Path(path).parent.parent.name] = (f["y_true"], f["y_pred"], f["p_true"])
    true_class_histograms(predictions, snakemake.output.figure)
    log(f"histograms of {len(predictions)} runs")
