# One job per trained model (run x seed), and the bookkeeping of searches.

# Bookkeeping reads a few small files: not worth a cluster job.
localrules:
    search_table,
    search_range,
    summary,
    summary_all,


rule train:
    input:
        split=split_of_run,
        derived=derived_input,
        code=TRAINING_CODE,
    output:
        model="results/{assignment}/{experiment}/{run}/seed{seed}/model.npz",
        history="results/{assignment}/{experiment}/{run}/seed{seed}/history.csv",
        predictions="results/{assignment}/{experiment}/{run}/seed{seed}/predictions.npz",
        metrics="results/{assignment}/{experiment}/{run}/seed{seed}/metrics.json",
    params:
        spec=run_spec,
        experiment=experiment_config,
    log:
        "logs/{assignment}/{experiment}/{run}/seed{seed}.log",
    benchmark:
        "benchmarks/{assignment}/{experiment}/{run}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    message:
        "Training {wildcards.assignment}/{wildcards.experiment}/{wildcards.run} with seed {wildcards.seed}"
    script:
        "../scripts/train.py"


rule search_table:
    input:
        metrics=search_points,
    output:
        table="results/{assignment}/{experiment}/search.csv",
        best="results/{assignment}/{experiment}/best.json",
    log:
        "logs/{assignment}/{experiment}/search_table.log",
    message:
        "Ranking the points of search {wildcards.assignment}/{wildcards.experiment} by validation accuracy"
    script:
        "../scripts/search_table.py"


rule search_range:
    input:
        table=coarse_search_table,
    output:
        ranges="results/{assignment}/{experiment}/range.json",
    params:
        refine=lambda wc: experiment_config(wc)["refine"],
        coarse=coarse_ranges,
    log:
        "logs/{assignment}/{experiment}/search_range.log",
    message:
        "Deriving the ranges of search {wildcards.assignment}/{wildcards.experiment} from the coarse results"
    script:
        "../scripts/search_range.py"


rule summary:
    input:
        metrics=lambda wc: all_metrics(wc.assignment),
    output:
        table="results/{assignment}/summary.csv",
    log:
        "logs/{assignment}/summary.log",
    message:
        "Collecting one row per trained model of {wildcards.assignment}"
    script:
        "../scripts/summary.py"


rule summary_all:
    input:
        tables=expand(rules.summary.output.table, assignment=ASSIGNMENTS),
    output:
        table="results/summary.csv",
    log:
        "logs/summary.log",
    message:
        "Concatenating the summaries of every assignment"
    script:
        "../scripts/summary.py"
