"""``snakemake --config key=value`` read as YAML, as the same value would be in a config file.

Snakemake parses each ``--config`` value with YAML's base loader, which keeps
every scalar a string: ``seeds=[1]`` arrives as ``['1']`` and the schema
refuses it ("'1' is not of type 'integer'").  Re-reading the raw entries
with the safe loader gives ``[1]``, and a quoted ``"000"`` stays a string, as
it would in a ``--configfile``.
"""

import re

import yaml


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, reading ``1e-3`` as a float too (YAML 1.1 wants ``1.0e-3``), as Snakemake's float() does."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def command_line_config(entries):
    """``{key: value}`` of raw ``key=value`` entries (``--config``), each value parsed as YAML.

    Entries for the same key merge key by key (later ones win), as in
    Snakemake; an empty value is ``None``.
    """
    config = {}
    for entry in entries or ():
        key, sep, value = entry.partition("=")
        if not sep:
            raise ValueError(f"--config {entry!r}: config entries are key=value pairs")
        try:
            value = yaml.load(value, Loader=_Loader)
        except yaml.YAMLError as error:
            raise ValueError(f"--config {entry!r}: the value is not YAML ({error})") from None
        _merge(config, {key.strip(): value})
    return config


def _merge(config, override):
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            _merge(config[key], value)
        else:
            config[key] = value
