# Training jobs, and the bookkeeping of searches.
#
# The points of a search stage train together as one stack of models sharing
# their mini-batches (one job per chunk: `search.chunk_size` in the config);
# headline runs are one job per seed, the runs of an experiment that differ
# only in per-model scalars as one stack (`stack: false` on an experiment:
# one job per run).  Each job is a rule of its own, written out from
# `TRAINING_JOBS` (common.smk), so that its params are exactly its own run
# specs and each model still has its own files.


# Bookkeeping reads a few small files: not worth a cluster job.
localrules:
    search_table,
    search_range,
    ensemble,
    summary,
    summary_all,


# Results whose metrics.json disagrees with today's spec or code (dd2424.pipeline.records): their job's
# marker is stamped now, so that they rerun even where .snakemake/ was lost; found by the main process only.
if workflow.is_main_process:
    STALE = {job["name"]: why for job, why in records.stale_jobs(config, TRAINING_JOBS, code("train.py"))}
    for job in TRAINING_JOBS:
        if job["name"] in STALE:
            print(f"Rerunning {job['name']}: {STALE[job['name']]}", file=sys.stderr)
        records.mark(paths.job_marker(job["name"]), job["name"] in STALE)


for job in TRAINING_JOBS:

    rule:
        name:
            job["name"]
        input:
            split=paths.split_arrays(job["specs"][0]["split"]),
            derived=derived_file(job["report"], job["experiment"]),
            marker=paths.job_marker(job["name"]),
        output:
            model=jobs.outputs(job, "model.npz"),
            history=jobs.outputs(job, "history.csv"),
            predictions=jobs.outputs(job, "predictions.npz"),
            metrics=jobs.outputs(job, "metrics.json"),
        log:
            jobs.side_file("logs", job, ".log"),
        benchmark:
            jobs.side_file("benchmarks", job, ".tsv")
        # Search chains first, so that their long final runs do not start last.
        priority: 10 if job["chain"] else 0
        threads: jobs.threads(job, config["training"])
        resources:
            mem_mb=3000,
            runtime=120,
        params:
            code=code("train.py"),
            specs=job["specs"],
            derived_by=job["derived_by"],
            curves=job["curves"],
            seed=jobs.seed(job),
        message:
            jobs.message(job)
        script:
            "../scripts/train.py"


rule search_table:
    input:
        metrics=experiment_outputs("metrics.json"),
    output:
        table=paths.search_table("{report}", "{experiment}"),
        best=paths.best_point("{report}", "{experiment}"),
    log:
        "logs/{report}/{experiment}/search_table.log",
    priority: 10
    params:
        code=code("search_table.py"),
        metric=rank_metric,
    message:
        "Ranking the points of search {wildcards.report}/{wildcards.experiment} by {params.metric}"
    script:
        "../scripts/search_table.py"


rule search_range:
    input:
        table=coarse_search_table,
        coarse_range=coarse_range_file,
    output:
        ranges=paths.search_range("{report}", "{experiment}"),
    log:
        "logs/{report}/{experiment}/search_range.log",
    priority: 10
    params:
        code=code("search_range.py"),
        refine=refine_margins,
        coarse=coarse_ranges,
        metric=coarse_rank_metric,
    message:
        "Deriving the ranges of search {wildcards.report}/{wildcards.experiment} from the stage it refines"
    script:
        "../scripts/search_range.py"


rule summary:
    input:
        metrics=lambda wc: [m for e in experiments_of(wc.report) for m in run_outputs(wc.report, e)],
    output:
        table=paths.report_summary("{report}"),
    log:
        "logs/{report}/summary.log",
    params:
        code=code("summary.py"),
    message:
        "Collecting one row per trained model of report {wildcards.report}"
    script:
        "../scripts/summary.py"


rule summary_all:
    input:
        tables=expand(rules.summary.output.table, report=IN_ALL),
    output:
        table=paths.summary(),
    log:
        "logs/summary.log",
    params:
        code=code("summary.py"),
    message:
        "Concatenating the summaries of every report"
    script:
        "../scripts/summary.py"


# An experiment's models voting on the test set (`ensemble` in its report file): per run over its seeds,
# or per seed over its runs.  Reads the models' predictions only: asking for it retrains nothing.
rule ensemble:
    input:
        predictions=experiment_outputs("predictions.npz"),
    output:
        table=paths.ensemble_table("{report}", "{experiment}"),
    log:
        "logs/{report}/{experiment}/ensemble.log",
    params:
        code=code("ensemble.py"),
        over=lambda wc: experiment_config(wc)["ensemble"]["over"],
        runs=lambda wc: list(RUNS[(wc.report, wc.experiment)]),
        seeds=lambda wc: ex.seeds_of(config, experiment_config(wc)),
    message:
        "Scoring the hard and soft votes of the ensembles of {wildcards.report}/{wildcards.experiment}"
    script:
        "../scripts/ensemble.py"
