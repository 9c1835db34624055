from dd2424.report import build_pdf

build_pdf(snakemake.input.tex, snakemake.output.pdf, snakemake.log[0])
