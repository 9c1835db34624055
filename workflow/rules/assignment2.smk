# Assignment 2 (seeds 000 and 001): a two-layer network, cyclical learning
# rates, momentum, coarse-to-fine searches.  The runs are config (assignments.a2).


rule assignment2:
    input:
        assignment_outputs("a2"),
    message:
        "Assignment 2: gradient checks, every run, searches and figures"
