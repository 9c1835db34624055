# Fetch, verify and unpack CIFAR-10 once; write each normalised split once.


# Cluster compute nodes often have no internet: fetch on the submitting host.
localrules:
    download,


BATCH_FILES = expand(
    "resources/cifar-10/{batch}_{xy}.npy",
    batch=[f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"],
    xy=["X", "y"],
)


rule download:
    output:
        archive="resources/cifar-10-python.tar.gz",
    log:
        "logs/data/download.log",
    benchmark:
        "benchmarks/data/download.tsv"
    # The archive is what its md5 says it is: another copy (a mirror, a moved
    # file) at another data.url is the same input and reruns nothing, so the
    # script reads the url from the config rather than as a param.
    params:
        code=code("download.py"),
        # an md5 is a number: its letters' case means nothing
        md5=config["data"]["md5"].lower(),
    message:
        "Fetching CIFAR-10 (config data.url) and checking its md5 {params.md5}"
    script:
        "../scripts/download.py"


rule extract:
    input:
        archive=rules.download.output.archive,
    output:
        batches=BATCH_FILES,
        meta="resources/cifar-10/meta.json",
    log:
        "logs/data/extract.log",
    benchmark:
        "benchmarks/data/extract.tsv"
    params:
        code=code("extract.py"),
    message:
        "Unpacking the CIFAR-10 batches into uint8 arrays"
    script:
        "../scripts/extract.py"


# Once the archive is unpacked its batch sizes are known, and the sizes the
# run specs ask for (n_train, n_batch, val_size) are checked before any job.
if os.path.exists(rules.extract.output.meta):
    try:
        check_sizes(
            config,
            json.loads(Path(rules.extract.output.meta).read_text(encoding="utf-8"))["sizes"],
            override_origins(CONFIG_SOURCES),
            lambda keys: blame(CONFIG_SOURCES, keys),
        )
    except ConfigError as error:
        sys.exit(f"ConfigError: {error}")


# A split whose stats.json disagrees with today's split spec or code reruns where .snakemake/ was lost, as a
# stale training job does (dd2424.pipeline.records); found by the main process only.
if workflow.is_main_process:
    STALE_SPLITS = dict(records.stale_splits(config, code("split.py")))
    for name in config["splits"]:
        if name in STALE_SPLITS:
            print(f"Rerunning split {name}: {STALE_SPLITS[name]}", file=sys.stderr)
        records.mark(paths.job_marker(f"split_{name}"), name in STALE_SPLITS)


rule split:
    input:
        batches=rules.extract.output.batches,
        marker=paths.job_marker("split_{split}"),
    output:
        arrays=paths.split_arrays("{split}"),
        stats=paths.split_stats("{split}"),
    log:
        "logs/data/split_{split}.log",
    benchmark:
        "benchmarks/data/split_{split}.tsv"
    resources:
        mem_mb=4000,
    params:
        code=code("split.py"),
        spec=lambda wc: config["splits"][wc.split],
    message:
        "Preprocessing split {wildcards.split} with its training statistics (its preprocess; whitened if it says zca_eps)"
    script:
        "../scripts/split.py"
