# Figures drawn from the trained models' histories, weights and predictions.


rule curves:
    input:
        histories=experiment_outputs("history.csv"),
    output:
        figure=report(
            paths.figure("{report}", "{experiment}", "curves"),
            caption="../../report/captions/curves.rst",
            category="{report}",
            subcategory="training curves",
        ),
    log:
        "logs/{report}/figures/{experiment}_curves.log",
    params:
        code=code("plot_curves.py"),
        x=curves_axis,
        runs=run_names(per_seed=True),
    message:
        "Plotting the training curves of {wildcards.report}/{wildcards.experiment}"
    script:
        "../scripts/plot_curves.py"


rule weights:
    input:
        models=first_seed_outputs("model.npz"),
        meta=rules.extract.output.meta,
    output:
        figure=report(
            paths.figure("{report}", "{experiment}", "weights"),
            caption="../../report/captions/weights.rst",
            category="{report}",
            subcategory="weights",
        ),
    log:
        "logs/{report}/figures/{experiment}_weights.log",
    params:
        code=code("plot_weights.py"),
        runs=run_names(per_seed=False),
    message:
        "Drawing the learned weights of {wildcards.report}/{wildcards.experiment} as class images"
    script:
        "../scripts/plot_weights.py"


rule histograms:
    input:
        predictions=first_seed_outputs("predictions.npz"),
    output:
        figure=report(
            paths.figure("{report}", "{experiment}", "histograms"),
            caption="../../report/captions/histograms.rst",
            category="{report}",
            subcategory="true-class probabilities",
        ),
    log:
        "logs/{report}/figures/{experiment}_histograms.log",
    params:
        code=code("plot_histograms.py"),
        runs=run_names(per_seed=False),
    message:
        "Histogramming the probability of the true class for {wildcards.report}/{wildcards.experiment}"
    script:
        "../scripts/plot_histograms.py"


rule schedule_figure:
    input:
        metrics=first_seed_outputs("metrics.json"),
    output:
        figure=report(
            paths.figure("{report}", "{experiment}", "schedule"),
            caption="../../report/captions/schedule.rst",
            category="{report}",
            subcategory="learning rates",
        ),
    log:
        "logs/{report}/figures/{experiment}_schedule.log",
    params:
        code=code("plot_schedule.py"),
    message:
        "Plotting the learning-rate schedules of {wildcards.report}/{wildcards.experiment}"
    script:
        "../scripts/plot_schedule.py"


rule search_figure:
    input:
        tables=search_stage_tables,
    output:
        figure=report(
            paths.figure("{report}", "{experiment}", "search"),
            caption="../../report/captions/search.rst",
            category="{report}",
            subcategory="searches",
        ),
    log:
        "logs/{report}/figures/{experiment}_search.log",
    params:
        code=code("plot_search.py"),
        stages=lambda wc: search_stages(wc.report, wc.experiment),
        metrics=lambda wc: search_stage_metrics(wc.report, wc.experiment),
        searched=lambda wc: ex.searched_keys(config, wc.report, wc.experiment),
    message:
        "Plotting validation accuracy against the searched values of {wildcards.report}/{wildcards.experiment}"
    script:
        "../scripts/plot_search.py"


rule bars_figure:
    input:
        metrics=experiment_outputs("metrics.json"),
    output:
        figure=report(
            paths.figure("{report}", "{experiment}", "bars"),
            caption="../../report/captions/bars.rst",
            category="{report}",
            subcategory="runs side by side",
        ),
    log:
        "logs/{report}/figures/{experiment}_bars.log",
    params:
        code=code("plot_bars.py"),
        runs=run_names(per_seed=True),
    message:
        "Drawing the test accuracy and training time of each run of {wildcards.report}/{wildcards.experiment}"
    script:
        "../scripts/plot_bars.py"
