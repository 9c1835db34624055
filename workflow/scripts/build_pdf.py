from dd2424.pdf.report import build_pdf
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    build_pdf(snakemake.input.tex, snakemake.output.pdf, snakemake.log[0])
    log(f"built {snakemake.output.pdf}")
