import json

from dd2424.logs import LineLog
from dd2424.search import ranked
from dd2424.summary import from_metrics

with LineLog(snakemake.log[0]) as log:
    table = ranked(from_metrics(snakemake.input.metrics))
    table.to_csv(snakemake.output.table, index=False)
    best = json.loads(table.iloc[[0]].to_json(orient="records"))[0]
    with open(snakemake.output.best, "w", encoding="utf-8") as f:
        json.dump({"best": best}, f, indent=1)
    log(f"best of {len(table)} points: {best['run']} with validation accuracy {best['val_accuracy']:.4f}")
