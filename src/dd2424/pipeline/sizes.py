"""The sizes run specs ask for, against the data: checkable only once the archive's batch sizes are known
(at parse time once it is unpacked, and by the unpacking job on a first run)."""

from .checks import ConfigError, refuse_untrainable
from .experiments import static_runs
from .origins import override_of, set_at
from .reports import CONFIG_SPLITS, split_origin


def check_sizes(config, batch_sizes, origins=None, blame=None):
    """Sizes the run specs ask for against the data, once the archive's batch sizes are known.

    ``batch_sizes``: ``{batch name: images}`` (``meta.json`` of the extracted
    archive).  Refuses a validation size larger than its pool, an ``n_train`` above its split's training
    images, and an ``n_batch`` above the images a run trains on: every problem at once, each with the file
    (and line) that set it.  ``origins`` (``configuration.override_origins``) and ``blame`` (key path ->
    ``file:line``, ``configuration.blame``) name the config files; without them (in a job), "the config".
    """
    origins = origins or {}
    train_sizes, problems = {}, []
    used = {g.get("split", "batch1") for g in config["gradcheck"].values() if isinstance(g, dict)}
    used |= {
        spec["split"] for rid, report in config["reports"].items() for name in report["experiments"]
        for spec in static_runs(config, rid, name).values()
    }  # fmt: skip
    for name, split in config["splits"].items():
        pool = sum(batch_sizes.get(b, 0) for b in split["train"])
        val_from = split.get("val_from", "train")
        carved = sum(batch_sizes.get(b, 0) for b in split["test"]) if val_from == "test" else pool
        # a split no run uses is never built: its sizes do not matter
        if name in used and "val_size" in split and not 0 <= split["val_size"] < carved:
            origin = split_origin(config, name)
            if origin == CONFIG_SPLITS and blame:
                origin = blame(["splits", name, "val_size"])
            problems.append(
                f"{origin}: splits.{name}.val_size is {split['val_size']}, but its "
                f"{'test' if val_from == 'test' else 'training'} pool has {carved} images"
            )
        train_sizes[name] = pool - split.get("val_size", 0) if val_from == "train" else pool
    if problems:
        raise ConfigError("\n".join(problems))
    for rid, report in config["reports"].items():
        for name, exp in report["experiments"].items():
            override = override_of(config, origins, rid, name)
            for run, spec in static_runs(config, rid, name).items():
                where = f"{report['file']}: experiments.{name} (run {run!r})"
                available = train_sizes.get(spec["split"], 0)
                images = spec.get("n_train") or available
                if spec.get("n_train") and spec["n_train"] > available:
                    problems.append(
                        f"{set_at(report['file'], name, run, 'n_train', exp, override)} (run {run!r}): n_train "
                        f"{spec['n_train']} is more than the {available} training images of split {spec['split']!r}"
                    )
                elif spec["n_batch"] > images:
                    problems.append(
                        f"{set_at(report['file'], name, run, 'n_batch', exp, override)} (run {run!r}): n_batch "
                        f"{spec['n_batch']} is larger than its {images} training images"
                    )
                else:
                    # a preview's shortened half-cycle may round below one update: it trains one
                    try:
                        refuse_untrainable(spec, where, images, bool(config.get("preview")))
                    except ConfigError as error:
                        problems.append(str(error))
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))
