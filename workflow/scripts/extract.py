import json
from pathlib import Path

from dd2424.data.cifar import extract
from dd2424.pipeline.sizes import check_sizes
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    extract(snakemake.input.archive, Path(snakemake.output.meta).parent)
    log(f"unpacked {snakemake.input.archive}")
    # The sizes the run specs ask for (val_size, n_train, n_batch) against the batches, as every later run
    # checks them at parse time: on a first run, here, before any split or training job starts on them.
    check_sizes(snakemake.config, json.loads(Path(snakemake.output.meta).read_text(encoding="utf-8"))["sizes"])
