# The PDF report: Jinja2 templates rendered with numbers from results/, then LaTeX.


# TeX is usually installed where users log in, not on compute nodes.
localrules:
    scorecard,
    scorecard_figure,
    render_report,
    report,


# Every number the reports publish against ours: one row each, with its verdict and known causes.
rule scorecard:
    input:
        summary=rules.summary_all.output.table,
        search=list(REPORT_FILES["search"].values()),
        gradcheck=list(REPORT_FILES["gradcheck"].values()),
        ensemble=list(REPORT_FILES["ensemble"].values()),
        histories=list(published_histories()),
    output:
        table=paths.pdf_file("scorecard.csv"),
    log:
        "logs/report/scorecard.log",
    params:
        code=code("scorecard.py"),
        searches=list(REPORT_FILES["search"]),
        gradchecks=list(REPORT_FILES["gradcheck"]),
        ensembles=list(REPORT_FILES["ensemble"]),
        # the run each history belongs to, in the order of the inputs
        history_runs=list(published_histories().values()),
        # the published numbers are the reports' (config["reports"], loaded from their files): editing
        # them reruns this and the PDF, no training
        config=projections.scorecard_config(config, IN_ALL),
    message:
        "Scoring every published number of the reports against ours"
    script:
        "../scripts/scorecard.py"


rule scorecard_figure:
    input:
        table=rules.scorecard.output.table,
    output:
        figure=report(
            paths.pdf_file("scorecard.png"),
            caption="../../report/captions/scorecard.rst",
            category="report",
        ),
    log:
        "logs/report/scorecard_figure.log",
    params:
        code=code("plot_scorecard.py"),
    message:
        "Plotting ours against every published number"
    script:
        "../scripts/plot_scorecard.py"


# The machine's float32 GEMM rate on one core: what the report sets the training's arithmetic against.
# Measured once, on a compute node like the training's; delete the file to measure again.
rule gemm_rate:
    output:
        rate=paths.pdf_file("gemm.json"),
    log:
        "logs/report/gemm_rate.log",
    benchmark:
        "benchmarks/report/gemm_rate.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        code=code("gemm_rate.py"),
    message:
        "Measuring numpy's float32 GEMM rate on one core"
    script:
        "../scripts/gemm_rate.py"


rule render_report:
    input:
        summary=rules.summary_all.output.table,
        gemm=rules.gemm_rate.output.rate,
        scorecard=rules.scorecard.output.table,
        scorecard_figure=rules.scorecard_figure.output.figure,
        reports_built=[f for r in IN_ALL for f in targets.report_outputs(config, RUNS, r)],
        search=list(REPORT_FILES["search"].values()),
        best=list(REPORT_FILES["best"].values()),
        range=list(REPORT_FILES["range"].values()),
        ensemble=list(REPORT_FILES["ensemble"].values()),
        figure=list(REPORT_FILES["figure"].values()),
        gradcheck=list(REPORT_FILES["gradcheck"].values()),
    output:
        tex=paths.pdf_file("report.tex"),
    log:
        "logs/report/render.log",
    params:
        code=code("render_report.py"),
        templates=template_texts(),
        # what each of the search/best/range/figure/gradcheck inputs is, in order
        ids={kind: list(files) for kind, files in REPORT_FILES.items()},
        commit=git.commit(workflow.basedir),
        config=projections.portable_config(config, IN_ALL),
        reports=IN_ALL,
        checksum=projections.config_checksum(config, IN_ALL),
    message:
        "Rendering the report's LaTeX from the results"
    script:
        "../scripts/render_report.py"


rule report:
    input:
        tex=rules.render_report.output.tex,
    output:
        pdf=report(paths.report_pdf(), caption="../../report/captions/pdf.rst", category="report"),
    log:
        "logs/report/latexmk.log",
    params:
        code=code("build_pdf.py"),
    message:
        "Building results/report.pdf with latexmk"
    script:
        "../scripts/build_pdf.py"
