"""Where a running local marketplace writes its URLs and environment, so that CLI
commands (`make outbox`, `make sweep`, the demo loader) can talk to it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_STATE_FILE = Path(__file__).resolve().parent.parent / ".local" / "stack.json"


def state_file() -> Path:
    return Path(os.environ.get("AGORA_LOCAL_STATE", DEFAULT_STATE_FILE))


def write(state: dict[str, Any], path: Path | None = None) -> None:
    path = path or state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def read(path: Path | None = None) -> dict[str, Any]:
    path = path or state_file()
    if not path.exists():
        raise SystemExit(f"No local marketplace is running ({path} is missing). Start one with `make run`.")
    return json.loads(path.read_text())


def apply_environment(path: Path | None = None) -> dict[str, Any]:
    """Point this process at the running local marketplace."""
    state = read(path)
    os.environ.update(state["env"])
    return state
