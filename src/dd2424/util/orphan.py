"""Stop a job whose Snakemake is gone.

``kill -9`` of Snakemake (or its terminal closing) leaves its local jobs
running as orphans: a training job would go on for minutes writing its
outputs, while ``snakemake --unlock`` already succeeds and the next run
starts the same job beside it.  A job started with ``stop_when_orphaned``
notices within about a second that its parent process has changed (an
orphan is adopted by init or a subreaper) and stops before writing
anything: Snakemake's incomplete-output marker then has the next run train
it again (``rerun-incomplete``).
"""

import _thread
import os
import threading
import time


def stop_when_orphaned(log=print, every=1.0, grace=3.0):
    """Watch, from a daemon thread, that the process that started this one is still its parent.

    When it is gone the main thread gets a KeyboardInterrupt at its next
    Python instruction (a long numpy call finishes first); if it is still
    running ``grace`` seconds later, the process exits.  Returns the thread.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(every)
        log(
            f"the Snakemake that started this job (pid {parent}) is gone: stopping (the next run trains this job again)"
        )
        _thread.interrupt_main()
        time.sleep(grace)
        os._exit(1)

    thread = threading.Thread(target=watch, name="stop-when-orphaned", daemon=True)
    thread.start()
    return thread
