"""Every file the workflow writes under results/, spelt once.

Each function gives one path; its arguments may be Snakemake wildcards
(``"{report}"``), so that a rule's output and the inputs of the rules that
read it are the same spelling.  Logs and benchmarks mirror these paths
under logs/ and benchmarks/.
"""

RESULTS = "results"
# What a training job writes per model.
MODEL_FILES = ("model.npz", "history.csv", "predictions.npz", "metrics.json")
SPLIT_PARTS = ("train", "val", "test")


def split_array(split, part, xy):
    """One array of a prepared split: ``part`` train, val or test; ``xy`` X or y."""
    return f"{RESULTS}/data/{split}/{part}_{xy}.npy"


def split_arrays(split):
    """Every array of a prepared split, in the order the split rule writes them."""
    return [split_array(split, part, xy) for part in SPLIT_PARTS for xy in ("X", "y")]


def split_stats(split):
    return f"{RESULTS}/data/{split}/stats.json"


def model_file(report, experiment, run, seed, name):
    """One of a trained model's ``MODEL_FILES``."""
    return f"{RESULTS}/{report}/{experiment}/{run}/seed{seed}/{name}"


def stage_file(report, experiment, name):
    """A file of a whole experiment: ``search.csv``, ``best.json``, ``range.json`` or ``ensemble.csv``."""
    return f"{RESULTS}/{report}/{experiment}/{name}"


def search_table(report, experiment):
    return stage_file(report, experiment, "search.csv")


def best_point(report, experiment):
    return stage_file(report, experiment, "best.json")


def search_range(report, experiment):
    return stage_file(report, experiment, "range.json")


def ensemble_table(report, experiment):
    return stage_file(report, experiment, "ensemble.csv")


def figure(report, experiment, kind):
    return f"{RESULTS}/{report}/figures/{experiment}_{kind}.png"


def report_summary(report):
    return f"{RESULTS}/{report}/summary.csv"


def summary():
    return f"{RESULTS}/summary.csv"


def report_pdf():
    return f"{RESULTS}/report.pdf"


def gradcheck_table(assignment):
    return f"{RESULTS}/gradcheck/{assignment}.csv"


def pdf_file(name):
    """A file of the PDF's build: scorecard.csv, scorecard.png, gemm.json, report.tex."""
    return f"{RESULTS}/report/{name}"


def job_marker(job_name):
    """A job's marker (dd2424.pipeline.records): its time reruns the job where .snakemake is lost; a split's
    job is named ``split_<split>``."""
    return f"{RESULTS}/markers/{job_name}"
