"""Workarounds for Snakemake bugs that stop the pipeline; each names its upstream issue.

Applied once, at parse time, by the Snakefile: the rules stay plain Snakemake.
"""

from snakemake.script import PythonScript

UNQUOTED, QUOTED = "{py_exec}", "{py_exec:q}"


def quote_script_interpreter():
    """Quote the Python interpreter in the command line of ``script:`` jobs.

    Snakemake writes ``{py_exec} {fname:q}``: with the virtualenv in a
    directory whose name has a space, a quote or a parenthesis
    (``~/My Courses/dd2424/.venv/bin/python``) the shell splits the
    interpreter's path and every script job fails at once
    (snakemake/snakemake#2645, open).  This asks Snakemake's own formatter to
    quote it (``:q``), and does nothing once Snakemake quotes it itself.
    """
    if getattr(PythonScript._execute_cmd, "quotes_interpreter", False):
        return
    execute = PythonScript._execute_cmd

    def execute_quoted(self, cmd, **kwargs):
        return execute(self, cmd.replace(UNQUOTED, QUOTED), **kwargs)

    execute_quoted.quotes_interpreter = True
    PythonScript._execute_cmd = execute_quoted
