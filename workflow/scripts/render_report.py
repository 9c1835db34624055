import json
from pathlib import Path

from dd2424.pdf.provenance import provenance
from dd2424.pdf.report import build_context, render
from dd2424.util.logs import LineLog

with LineLog(snakemake.log[0]) as log:
    config = snakemake.params.config
    files = {
        kind: dict(zip(ids, getattr(snakemake.input, kind), strict=True)) for kind, ids in snakemake.params.ids.items()
    }
    files["scorecard_figure"] = snakemake.input.scorecard_figure
    report_dir = Path(snakemake.output.tex).parent
    with open(snakemake.input.gemm, encoding="utf-8") as f:
        gemm = json.load(f)
    info = provenance(config, snakemake.params.commit, "benchmarks", snakemake.params.checksum, gemm)
    context = build_context(
        config, snakemake.params.reports, snakemake.input.summary, snakemake.input.scorecard, files, report_dir, info
    )
    render(snakemake.params.templates, context, snakemake.output.tex)
    overall = context["scorecard"]["overall"]
    log(f"rendered {snakemake.output.tex} from {context['n_models']} trained models")
    log(f"scorecard: {overall['reproduced']} of {overall['total']} published numbers reproduced")
