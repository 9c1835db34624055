# The bonus: how far a fully-connected numpy network goes on CIFAR-10.  The
# search, the best recipe over the seeds and its ablation are config
# (assignments.bonus); `in_all: false` there leaves it out of `all` and the
# report, and `snakemake bonus` still builds it.


rule bonus:
    input:
        assignment_outputs("bonus"),
    message:
        "Bonus: the search, the best recipe over the seeds, its ablation and figures"
