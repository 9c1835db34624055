import json
from pathlib import Path

import numpy as np

from dd2424.nn import schedules
from dd2424.pdf.plots import learning_rates
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    curves = {}
    for path in snakemake.input.metrics:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        schedule, total = schedules.build(spec, spec["train_images"])
        steps = np.arange(total)
        curves[spec["run"]] = (steps, [schedule(t) for t in steps])
    learning_rates(curves, snakemake.output.figure)
    log(f"plotted the schedules of {len(curves)} runs")
