"""app.py's import stays lean: heavy SDKs load where they are used, not at cold start, no
schema module is imported (routes name their models) and no pydantic model is built before its
first use, however many routes and events there are."""

from __future__ import annotations

import json
import subprocess
import sys

from pydantic import BaseModel

HEAVY = ("stripe", "pynamodb", "boto3", "jinja2", "argon2", "jwt", "moto", "zxcvbn", "pyotp", "email_validator",
         "numpy", "scipy")  # numpy and scipy: only the scheduled CLV fit imports them

# Every schema module of chalicelib (request and response models, named by the routes).
SCHEMAS = """
import importlib, importlib.util, pkgutil, chalicelib
for package in pkgutil.iter_modules(chalicelib.__path__):
    if importlib.util.find_spec(f"chalicelib.{package.name}.schemas") is not None:
        importlib.import_module(f"chalicelib.{package.name}.schemas")
"""

# Every pydantic model of chalicelib, after `import app` and every schema module: (name, built) pairs.
MODELS = """
import json, app
from pydantic import BaseModel
""" + SCHEMAS + """

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


def test_importing_the_app_imports_no_schema_module() -> None:
    """Creating a model class costs ~0.2 ms even deferred: routes name their models and views
    import their schema modules, so a cold start does not grow with the API."""
    importtime = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"],
                                capture_output=True, text=True, check=True).stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in importtime.splitlines()]
    assert "chalicelib.core.http" in imported and "chalicelib.orders.routes" in imported  # the probe sees them
    assert [m for m in imported if m.startswith("chalicelib.") and m.endswith(".schemas")] == []


def test_every_route_names_models_that_exist() -> None:
    """A named model is resolved at the route's first request: a wrong name would show only
    then (a 500), so resolve every route's here."""
    import app
    from chalicelib.core.http import Operation

    named = 0
    for path, methods in app.app.routes.items():
        for method, entry in methods.items():
            spec: Operation = entry.view_function.__agora_operation__
            for ref, model in ((spec.body_ref, spec.body), (spec.query_ref, spec.query),
                               (spec.response_ref, spec.response)):
                if ref is None or isinstance(ref, dict):  # none, or a JSON schema (text, CSV)
                    continue
                assert isinstance(ref, str), f"{method} {path} gives {ref}: name it"
                assert isinstance(model, type) and issubclass(model, BaseModel), f"{method} {path}: {ref}"
                assert ref.rpartition(":")[2] == model.__name__
                named += 1
    assert named > 100


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
    import app  # noqa: F401  (the events' and mails' models)

    exec(SCHEMAS)  # the routes' models

    def models(cls: type[BaseModel]) -> list[type[BaseModel]]:
        return [m for sub in cls.__subclasses__() for m in (sub, *models(sub))]

    ours = {m for m in models(BaseModel) if m.__module__.startswith("chalicelib")}
    assert len(ours) > 150
    for model in ours:
        model.model_rebuild()
        assert model.__pydantic_complete__, model
        assert isinstance(model.model_json_schema(), dict)
