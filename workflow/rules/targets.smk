# Targets by assignment and by report: `snakemake a2` builds every report of
# Assignment 2, `snakemake a2_2021_cyclic` one report (its id, with every
# character that is not a letter, digit or '_' as '_').  Each builds the
# assignment's gradient check, the report's models, searches and figures.


for assignment in ASSIGNMENTS:

    rule:
        name:
            assignment
        input:
            targets.assignment_outputs(config, RUNS, assignment),
        message:
            f"{assignment}: gradient checks, every report's runs, searches and figures"


for report_id in REPORTS:

    rule:
        name:
            ex.rule_name(report_id)
        input:
            targets.report_outputs(config, RUNS, report_id),
        message:
            f"Report {report_id}: its assignment's gradient check, its runs, searches and figures"
