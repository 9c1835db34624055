# Assignment 3 (seed 004): k-layer networks with batch normalisation, a
# coarse-to-fine lambda search, sensitivity to initialisation.
# The runs are config (assignments.a3).


rule assignment3:
    input:
        assignment_outputs("a3"),
    message:
        "Assignment 3: gradient checks, every run, the lambda search and figures"
