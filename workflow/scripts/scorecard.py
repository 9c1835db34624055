from collections import defaultdict

import pandas as pd

from dd2424.pipeline.results import read_history
from dd2424.pipeline.scorecard import published_entries, scorecard, totals, write_scorecard
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    config = snakemake.params.config
    summary = pd.read_csv(snakemake.input.summary)
    searches = dict(zip(snakemake.params.searches, map(pd.read_csv, snakemake.input.search), strict=True))
    gradchecks = dict(zip(snakemake.params.gradchecks, map(pd.read_csv, snakemake.input.gradcheck), strict=True))
    ensembles = dict(zip(snakemake.params.ensembles, map(pd.read_csv, snakemake.input.ensemble), strict=True))
    histories = defaultdict(list)  # {'<report>/<experiment>/<run>': [history per seed]}
    for run, path in zip(snakemake.params.history_runs, snakemake.input.histories, strict=True):
        histories[run].append(read_history(path))
    entries = published_entries(config["reports"])
    rows = scorecard(entries, config, summary, searches, gradchecks, ensembles, dict(histories))
    write_scorecard(rows, snakemake.output.table)
    overall, per_report = totals(rows)
    for t in per_report:
        log(f"{t['report']}: {t['reproduced']} of {t['total']} reproduced")
    log(f"in all: {overall['reproduced']} of {overall['total']} published numbers reproduced, {overall['shown']} shown")
