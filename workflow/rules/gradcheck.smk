# Analytic against numerical gradients, in float64, before any training.


rule gradcheck:
    input:
        split=gradcheck_split,
        # the course's debug_conv_info.npz, where gradcheck.<assignment>.debug_file names one
        debug_file=lambda wc: config["gradcheck"][wc.assignment].get("debug_file") or [],
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
