import json

import pandas as pd

from dd2424 import atomic
from dd2424.logs import LineLog
from dd2424.search import refine_ranges

with LineLog(snakemake.log[0]) as log:
    refine = snakemake.params.refine
    table = pd.read_csv(snakemake.input.table)
    ranges = refine_ranges(table, snakemake.params.coarse, refine.get("top", 3), refine.get("margin", 0.25))
    atomic.write_text(snakemake.output.ranges, json.dumps({"from": refine["from"], "ranges": ranges}, indent=1))
    log(f"fine ranges from the {refine.get('top', 3)} best points of {refine['from']}: {ranges}")
