"""Run Ralph (ralph-malph) as a local LRS with its file-system backend, for tests, the
benchmark and `passhub dev up --lrs`. Run it with the Python of Ralph's own venv:

    .venv-ralph/bin/python integrations/xapi/dev/ralph_serve.py --port 8100

Settings come from Ralph's environment variables (RALPH_AUTH_FILE,
RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH, ...), as with `ralph runserver -b fs`.

One change to Ralph: its file-system LRS backend writes statements in "create" mode, so the
first POST creates its file and every later POST fails with a 500 (the file exists). Here it
appends, as an LRS must; nothing else differs from `ralph runserver -b fs`.
"""

from __future__ import annotations

import argparse
import os

# before Ralph reads its settings, at import
os.environ.setdefault("RALPH_RUNSERVER_BACKEND", "fs")

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    uvicorn.run("ralph.api:app", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
