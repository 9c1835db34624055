from dd2424.pipeline.ensemble import ensemble_table, write_table
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    over = snakemake.params.over
    table = ensemble_table(over, snakemake.params.runs, snakemake.params.seeds, snakemake.input.predictions)
    write_table(table, snakemake.output.table)
    for row in table.itertuples():
        log(
            f"{row.ensemble} ({row.n_members} members over {over}, {row.diverged} diverged): "
            f"hard vote {row.hard_accuracy:.4f}, soft vote {row.soft_accuracy:.4f}, "
            f"members {row.mean_single_accuracy:.4f} on average"
        )
