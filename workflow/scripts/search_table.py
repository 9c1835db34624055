import json

from dd2424.pipeline.search import ranked
from dd2424.pipeline.table import from_metrics
from dd2424.util import atomic
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    metric = snakemake.params.metric
    table = ranked(from_metrics(snakemake.input.metrics), metric)
    with atomic.written(snakemake.output.table) as tmp:
        table.to_csv(tmp, index=False)
    best = json.loads(table.iloc[[0]].to_json(orient="records"))[0]
    atomic.write_text(snakemake.output.best, json.dumps({"best": best}, indent=1))
    log(f"best of {len(table)} points by {metric}: {best['run']} with {best[metric]:.4f}")
