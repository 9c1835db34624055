# Analytic against numerical gradients, in float64, before any training.


rule gradcheck:
    input:
        split=gradcheck_split,
    output:
        table=paths.gradcheck_table("{assignment}"),
    log:
        "logs/gradcheck/{assignment}.log",
    benchmark:
        "benchmarks/gradcheck/{assignment}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code("gradcheck.py"),
        checks=gradcheck_specs,
        max_rel_error=lookup(dpath="gradcheck/max_rel_error", within=config),
    message:
        "Checking {wildcards.assignment}'s analytic gradients against finite differences"
    script:
        "../scripts/gradcheck.py"
