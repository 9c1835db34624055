from dd2424.data.cifar import fetch
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    url = snakemake.config["data"]["url"]
    log(f"fetching {url}")
    fetch(url, snakemake.params.md5, snakemake.output.archive)
    log(f"md5 {snakemake.params.md5} verified")
