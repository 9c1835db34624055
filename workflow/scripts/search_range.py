import json

import pandas as pd

from dd2424.pipeline.search import refine_ranges, refine_rule
from dd2424.util import atomic
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    refine = snakemake.params.refine
    rule = refine_rule(refine)
    table = pd.read_csv(snakemake.input.table)
    # The bounds of the stage refined: its config's (a random search, a grid), or its own derived range (a refine).
    if snakemake.input.get("coarse_range"):
        with open(snakemake.input.coarse_range, encoding="utf-8") as f:
            bounds = json.load(f)["ranges"]
    else:
        bounds = snakemake.params.coarse
    ranges = refine_ranges(table, bounds, metric=snakemake.params.metric, **rule)
    derived = {"from": refine["from"], **rule, "ranked_by": snakemake.params.metric, "bounds": bounds, "ranges": ranges}
    atomic.write_text(snakemake.output.ranges, json.dumps(derived, indent=1))
    log(f"ranges from {refine['from']} by rule {rule} on {snakemake.params.metric}: {ranges}")
