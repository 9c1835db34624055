# Assignment 1 (seeds 002 and 003): a linear classifier, its bonus experiments.
# The runs themselves are config (assignments.a1); the generic rules train them.


rule assignment1:
    input:
        assignment_outputs("a1"),
    message:
        "Assignment 1: gradient checks, every run, searches and figures"
