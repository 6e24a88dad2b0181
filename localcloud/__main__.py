"""`python -m localcloud up --stack local`: see `localcloud.cli`."""

import logging
import os
import sys

from localcloud.cli import main


def leave(code: object) -> None:
    """Exit with ``code`` as ``sys.exit`` would, without the interpreter's teardown.

    By then the emulator holds a large heap (every backend, every parsed model) and Python frees it object
    by object at exit: more than a second after each command (measured on a 100-order day), with nothing
    left to do. So what must reach the user is flushed and the process ends at once. An unexpected error
    still takes the normal path, with its traceback."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


try:
    exit_code: object = main()
except SystemExit as stop:
    exit_code = stop.code
leave(exit_code)
