# Figures drawn from the trained models' histories, weights and predictions.


rule curves:
    input:
        histories=lambda wc: run_outputs(wc.assignment, wc.experiment, "history.csv"),
    output:
        figure=report(
            "results/{assignment}/figures/{experiment}_curves.png",
            caption="../../report/captions/curves.rst",
            category="{assignment}",
            subcategory="training curves",
        ),
    log:
        "logs/{assignment}/figures/{experiment}_curves.log",
    params:
        x=curves_axis,
        runs=run_names(per_seed=True),
    message:
        "Plotting the training curves of {wildcards.assignment}/{wildcards.experiment}"
    script:
        "../scripts/plot_curves.py"


rule weights:
    input:
        models=first_seed_outputs("model.npz"),
        meta=rules.extract.output.meta,
    output:
        figure=report(
            "results/{assignment}/figures/{experiment}_weights.png",
            caption="../../report/captions/weights.rst",
            category="{assignment}",
            subcategory="weights",
        ),
    log:
        "logs/{assignment}/figures/{experiment}_weights.log",
    params:
        runs=run_names(per_seed=False),
    message:
        "Drawing the learned weights of {wildcards.assignment}/{wildcards.experiment} as class images"
    script:
        "../scripts/plot_weights.py"


rule histograms:
    input:
        predictions=first_seed_outputs("predictions.npz"),
    output:
        figure=report(
            "results/{assignment}/figures/{experiment}_histograms.png",
            caption="../../report/captions/histograms.rst",
            category="{assignment}",
            subcategory="true-class probabilities",
        ),
    log:
        "logs/{assignment}/figures/{experiment}_histograms.log",
    params:
        runs=run_names(per_seed=False),
    message:
        "Histogramming the probability of the true class for {wildcards.assignment}/{wildcards.experiment}"
    script:
        "../scripts/plot_histograms.py"


rule schedule_figure:
    input:
        metrics=first_seed_outputs("metrics.json"),
    output:
        figure=report(
            "results/{assignment}/figures/{experiment}_schedule.png",
            caption="../../report/captions/schedule.rst",
            category="{assignment}",
            subcategory="learning rates",
        ),
    log:
        "logs/{assignment}/figures/{experiment}_schedule.log",
    message:
        "Plotting the learning-rate schedules of {wildcards.assignment}/{wildcards.experiment}"
    script:
        "../scripts/plot_schedule.py"


rule search_figure:
    input:
        tables=search_stage_tables,
    output:
        figure=report(
            "results/{assignment}/figures/{experiment}_search.png",
            caption="../../report/captions/search.rst",
            category="{assignment}",
            subcategory="searches",
        ),
    log:
        "logs/{assignment}/figures/{experiment}_search.log",
    params:
        stages=lambda wc: search_stages(wc.assignment, wc.experiment),
        searched=lambda wc: searched_keys(wc.assignment, wc.experiment),
    message:
        "Plotting validation accuracy against the searched values of {wildcards.assignment}/{wildcards.experiment}"
    script:
        "../scripts/plot_search.py"
