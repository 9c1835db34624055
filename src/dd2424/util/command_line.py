"""``snakemake --config key=value`` read as YAML, as the same value would be in a config file.

Snakemake parses each ``--config`` value with YAML's base loader, which keeps
every scalar a string: ``seeds=[1]`` arrives as ``['1']`` and the schema
refuses it ("'1' is not of type 'integer'").  Re-reading the raw entries
with the project's YAML reader (``dd2424.util.yaml_files``: YAML 1.2's
scalars, so ``1e-3`` is a float and ``on`` is text) gives ``[1]``, and a
quoted ``"000"`` stays a string, as it would in a ``--configfile``.
"""

from . import yaml_files


def command_line_config(entries):
    """``{key: value}`` of raw ``key=value`` entries (``--config``), each value parsed as YAML.

    Entries for the same key merge key by key (later ones win), as in
    Snakemake; an empty value is ``None``.  Raises ValueError naming the entry.
    """
    config = {}
    for entry in entries or ():
        key, sep, value = entry.partition("=")
        if not sep:
            raise ValueError(f"--config {entry!r}: config entries are key=value pairs")
        try:
            value = yaml_files.loads(value, f"--config {entry!r}")
        except yaml_files.YamlError as error:
            raise ValueError(str(error)) from None
        merge(config, {key.strip(): value})
    return config


def merge(config, override):
    """``override`` merged into ``config`` in place, mappings key by key, as Snakemake's update_config."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            merge(config[key], value)
        else:
            config[key] = value
    return config
