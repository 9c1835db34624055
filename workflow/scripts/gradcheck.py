from dd2424.pipeline.gradcheck import check_all
from dd2424.util import atomic
from dd2424.util.logs import LineLog
from dd2424.util.orphan import stop_when_orphaned

with LineLog(snakemake.log[0]) as log:
    stop_when_orphaned(log)  # a job whose Snakemake was killed stops
    table = check_all(snakemake.params.checks, snakemake.input.split[0], log=log)
    bad = table[table.max_rel_error > snakemake.params.max_rel_error]
    if len(bad):
        log(bad.to_string())
        raise SystemExit(
            f"gradient check failed: max_rel_error above {snakemake.params.max_rel_error} "
            f"for {sorted(set(bad.check + '/' + bad.loss + '/' + bad.parameter))}"
        )
    with atomic.written(snakemake.output.table) as tmp:
        table.to_csv(tmp, index=False)
