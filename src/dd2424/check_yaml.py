"""Read YAML files as the workflow reads them and name the file, line and problem of each that is not valid.

    python -m dd2424.check_yaml FILE [FILE ...]

Snakemake reads every ``--configfile`` itself before this workflow's code runs, and refuses one that is not
valid YAML (a tab, a bracket left open) with "Config file is not valid JSON or YAML", naming neither the file
nor the line.  This reads each file with the workflow's own reader (``dd2424.util.yaml_files``: YAML 1.2's
scalars, duplicated keys refused, bounded in size and aliases) and prints ``FILE:LINE: problem`` or
``FILE: valid YAML``.  Exit status 1 if any file is not.
"""

import sys

from dd2424.util.yaml_files import YamlError, read


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    bad = 0
    for path in paths:
        try:
            read(path)
        except YamlError as error:
            print(error)
            bad += 1
        else:
            print(f"{path}: valid YAML")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
