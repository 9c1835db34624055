import json
from pathlib import Path

from dd2424.logs import LineLog
from dd2424.report import build_context, provenance, render

with LineLog(snakemake.log[0]) as log:
    config = snakemake.params.config
    files = {
        kind: dict(zip(ids, getattr(snakemake.input, kind), strict=True)) for kind, ids in snakemake.params.ids.items()
    }
    report_dir = Path(snakemake.output.tex).parent
    with open(snakemake.input.gemm, encoding="utf-8") as f:
        gemm = json.load(f)
    info = provenance(config, snakemake.params.commit, "benchmarks", snakemake.params.checksum, gemm)
    context = build_context(
        config, snakemake.input.summary, files, report_dir, info, snakemake.input.published, snakemake.input.students
    )
    render(snakemake.params.templates, context, snakemake.output.tex)
    overall = context["scorecard"]["overall"]
    log(f"rendered {snakemake.output.tex} from {context['n_models']} trained models")
    log(f"scorecard: {overall['reproduced']} of {overall['total']} published numbers reproduced")
