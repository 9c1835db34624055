from dd2424.logs import LineLog
from dd2424.report import build_pdf

with LineLog(snakemake.log[0]) as log:
    build_pdf(snakemake.input.tex, snakemake.output.pdf, snakemake.log[0])
    log(f"built {snakemake.output.pdf}")
