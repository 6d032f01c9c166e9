"""app.py's import stays lean: heavy SDKs load where they are used, not at cold start, and no
pydantic model is built before its first use, however many routes and events there are."""

from __future__ import annotations

import json
import subprocess
import sys

from pydantic import BaseModel

HEAVY = ("stripe", "pynamodb", "boto3", "jinja2", "argon2", "jwt", "moto", "zxcvbn", "pyotp", "email_validator")

# Every pydantic model of chalicelib, after `import app`: (name, built) pairs.
MODELS = """
import json, app
from pydantic import BaseModel

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

print(json.dumps(sorted({(f"{m.__module__}.{m.__qualname__}", m.__pydantic_complete__)
                         for m in models(BaseModel) if m.__module__.startswith("chalicelib")})))
"""

# The OpenAPI document, with every model as it is now or (EAGER) with pydantic's default of
# building each model when its class is defined, as before models were deferred.
EAGER = """
import pydantic
_config_dict = pydantic.ConfigDict
pydantic.ConfigDict = lambda **options: _config_dict(**{**options, "defer_build": False})
"""
DOCUMENT = """
import json, app
from chalicelib.core.openapi import build_document
print(json.dumps(build_document(app.app)))
"""


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_importing_the_app_loads_no_heavy_sdk() -> None:
    probe = "import sys, app; print(','.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = set(_run(probe).strip().split(","))
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_importing_the_app_builds_no_model() -> None:
    """A model built at import (an instance at module level, a parametrised generic, a base
    without ``defer_build``) would make every cold start pay for it."""
    models = json.loads(_run(MODELS))
    assert len(models) > 150  # the routes', events' and mails' models are all seen
    assert [name for name, built in models if built] == []


def test_the_openapi_document_is_the_one_eagerly_built_models_give() -> None:
    eager = json.loads(_run(EAGER + MODELS))
    assert len(eager) > 150 and all(built for _, built in eager)  # EAGER really builds at import
    assert _run(DOCUMENT) == _run(EAGER + DOCUMENT)


def test_every_model_builds() -> None:
    """Deferred, a model's mistake (an unknown forward reference, a bad validator) would show
    only at its first request: build them all here instead."""
    import app  # noqa: F401  (every package's models)

    def models(cls: type[BaseModel]) -> list[type[BaseModel]]:
        return [m for sub in cls.__subclasses__() for m in (sub, *models(sub))]

    ours = {m for m in models(BaseModel) if m.__module__.startswith("chalicelib")}
    assert len(ours) > 150
    for model in ours:
        model.model_rebuild()
        assert model.__pydantic_complete__, model
        assert isinstance(model.model_json_schema(), dict)
