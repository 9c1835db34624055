# The PDF report: Jinja2 templates rendered with numbers from results/, then LaTeX.


# TeX is usually installed where users log in, not on compute nodes.
localrules:
    render_report,
    report,


# The machine's float32 GEMM rate on one core: what the report sets the training's arithmetic against.
# Measured once, on a compute node like the training's; delete the file to measure again.
rule gemm_rate:
    output:
        rate="results/report/gemm.json",
    log:
        "logs/report/gemm_rate.log",
    benchmark:
        "benchmarks/report/gemm_rate.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    message:
        "Measuring numpy's float32 GEMM rate on one core"
    script:
        "../scripts/gemm_rate.py"


rule render_report:
    input:
        summary=rules.summary_all.output.table,
        gemm=rules.gemm_rate.output.rate,
        assignments=[f for a in IN_ALL for f in assignment_outputs(a)],
        search=list(REPORT_FILES["search"].values()),
        best=list(REPORT_FILES["best"].values()),
        range=list(REPORT_FILES["range"].values()),
        figure=list(REPORT_FILES["figure"].values()),
        gradcheck=list(REPORT_FILES["gradcheck"].values()),
        templates=sorted(glob.glob(f"{workflow.basedir}/report/*.tex.j2")),
        # the seed reports' numbers: read by the report only, so editing them retrains nothing
        published=f"{workflow.basedir}/report/published.yaml",
        # other students' results as quoted, for the bonus's comparison
        students=f"{workflow.basedir}/report/student_results.yaml",
    output:
        tex="results/report/report.tex",
    log:
        "logs/report/render.log",
    params:
        templates=lambda wildcards, input: os.path.dirname(input.templates[0]),
        # what each of the search/best/range/figure/gradcheck inputs is, in order
        ids={kind: list(files) for kind, files in REPORT_FILES.items()},
        commit=git_commit(),
        config=config,
        checksum=config_checksum(),
    message:
        "Rendering the report's LaTeX from the results"
    script:
        "../scripts/render_report.py"


rule report:
    input:
        tex=rules.render_report.output.tex,
    output:
        pdf=report("results/report.pdf", caption="../../report/captions/pdf.rst", category="report"),
    log:
        "logs/report/latexmk.log",
    message:
        "Building results/report.pdf with latexmk"
    script:
        "../scripts/build_pdf.py"
