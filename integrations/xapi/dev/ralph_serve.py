"""Run Ralph (ralph-malph) as a local LRS with its file-system backend, for tests, the
benchmark and `passhub dev up --lrs`. Run it with the Python of Ralph's own venv:

    .venv-ralph/bin/python integrations/xapi/dev/ralph_serve.py --port 8100

Settings come from Ralph's environment variables (RALPH_AUTH_FILE,
RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH, ...), as with `ralph runserver -b fs`.

One change to Ralph: its file-system LRS backend writes statements in "create" mode, so the
first POST creates its file and every later POST fails with a 500 (the file exists). Here it
appends, as an LRS must; nothing else differs from `ralph runserver -b fs`.

`--index-ids`: the same backend, but it keeps the ids of the statements it holds in memory (read
from its file once, on the first request) instead of reading its whole file on every POST to
look for them, as an LRS on a database does with an index. The file is read only when a POST
carries an id it holds (to compare the statements, as before). Its answers are Ralph's own; only
a POST's cost no longer grows with what the LRS holds, which is what makes a year's backfill
measurable here (docs/xapi.md, Speed).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from typing import Any

# before Ralph reads its settings, at import
os.environ.setdefault("RALPH_RUNSERVER_BACKEND", "fs")

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend


def index_ids() -> None:
    """Give the file-system backend an in-memory index of the statement ids it holds."""
    scan = FSLRSBackend.query_statements_by_ids
    write = FSLRSBackend.write
    held: dict[str | None, set[str]] = {}

    def ids_held(backend: FSLRSBackend, target: str | None) -> set[str]:
        if target not in held:
            held[target] = {
                str(s.get("id"))
                for s in backend.read(query=backend.settings.DEFAULT_LRS_FILE, target=target)
            }
        return held[target]

    def query_statements_by_ids(
        self: FSLRSBackend, ids: list[str], target: str | None = None
    ) -> list[Any]:
        known = ids_held(self, target).intersection(ids)
        return scan(self, list(known), target) if known else []

    def indexed_write(
        self: FSLRSBackend, data: Iterable[Any], target: str | None = None, *args: Any, **kw: Any
    ) -> int:
        rows = list(data)
        count = write(self, rows, target, *args, **kw)
        ids_held(self, target).update(str(r["id"]) for r in rows if isinstance(r, dict))
        return count

    FSLRSBackend.query_statements_by_ids = query_statements_by_ids  # type: ignore[method-assign]
    FSLRSBackend.write = indexed_write  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--index-ids", action="store_true", help="index the ids held")
    args = parser.parse_args()
    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    if args.index_ids:
        index_ids()
    uvicorn.run("ralph.api:app", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
