# Regenerates the DD2424 CIFAR-10 assignments and their report: `snakemake -j8`.

from snakemake.utils import min_version, validate

min_version("9.0")


# ---- Configuration ---------------------------------------------------------

configfile: f"{workflow.basedir}/config.yaml"


validate(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml")


# ---- Rules, by stage --------------------------------------------------------

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gradcheck.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/assignment1.smk"
include: "workflow/rules/assignment2.smk"
include: "workflow/rules/assignment3.smk"
include: "workflow/rules/report.smk"


# ---- Targets ----------------------------------------------------------------


rule all:
    default_target: True
    input:
        rules.report.output.pdf,
        rules.summary_all.output.table,
