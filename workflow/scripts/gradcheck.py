import pandas as pd

from dd2424.pipeline.gradcheck import check_all, debug_file_rows
from dd2424.util import atomic
from dd2424.util.logs import LineLog
from dd2424.util.orphan import stop_when_orphaned

with LineLog(snakemake.log[0]) as log:
    stop_when_orphaned(log)  # a job whose Snakemake was killed stops
    table = check_all(snakemake.params.checks, snakemake.input.split[0], log=log)
    if snakemake.input.get("debug_file"):
        # the course's debug_conv_info.npz, where the config points at one: its arrays against ours
        rows = debug_file_rows(snakemake.input.debug_file)
        log(f"course debug file {snakemake.input.debug_file}: {len(rows)} arrays compared")
        table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    bad = table[table.max_rel_error > snakemake.params.max_rel_error]
    if len(bad):
        log(bad.to_string())
        raise SystemExit(
            f"gradient check failed: max_rel_error above {snakemake.params.max_rel_error} "
            f"for {sorted(set(bad.check + '/' + bad.loss + '/' + bad.parameter))}"
        )
    with atomic.written(snakemake.output.table) as tmp:
        table.to_csv(tmp, index=False)
