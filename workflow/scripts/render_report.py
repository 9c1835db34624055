from pathlib import Path

from dd2424.logs import LineLog
from dd2424.report import build_context, provenance, render

with LineLog(snakemake.log[0]) as log:
    config = snakemake.params.config
    figures = [f for f in snakemake.input.assignments if f.endswith(".png")]
    report_dir = Path(snakemake.output.tex).parent
    info = provenance(config, snakemake.params.commit, "benchmarks", snakemake.params.checksum)
    context = build_context(config, snakemake.input.summary, "results", report_dir, figures, info)
    render(snakemake.params.templates, context, snakemake.output.tex)
    log(f"rendered {snakemake.output.tex} from {context['n_models']} trained models")
