from dd2424.data import fetch
from dd2424.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    log(f"fetching {snakemake.params.url}")
    fetch(snakemake.params.url, snakemake.params.md5, snakemake.output.archive)
    log(f"md5 {snakemake.params.md5} verified")
