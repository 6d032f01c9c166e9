"""app.py's import stays lean: heavy SDKs load where they are used, not at cold start."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("stripe", "pynamodb", "boto3", "jinja2", "argon2", "jwt", "moto", "zxcvbn", "pyotp")


def test_importing_the_app_loads_no_heavy_sdk() -> None:
    probe = "import sys, app; print(','.join(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(result.stdout.strip().split(","))
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)
