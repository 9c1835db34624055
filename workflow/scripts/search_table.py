import json

from dd2424 import atomic
from dd2424.logs import LineLog
from dd2424.search import ranked
from dd2424.summary import from_metrics

with LineLog(snakemake.log[0]) as log:
    table = ranked(from_metrics(snakemake.input.metrics))
    with atomic.written(snakemake.output.table) as tmp:
        table.to_csv(tmp, index=False)
    best = json.loads(table.iloc[[0]].to_json(orient="records"))[0]
    atomic.write_text(snakemake.output.best, json.dumps({"best": best}, indent=1))
    log(f"best of {len(table)} points: {best['run']} with validation accuracy {best['val_accuracy']:.4f}")
