"""``import ocpp_schedule`` does bounded work (issue 15 item 7, issue 16's import target).

Never timed here (``benchmarks/import_time.py`` times it): the tests count what the import
does in a fresh interpreter, the modules it loads and the pydantic models it builds, and
check that the lazy names stay the same names for type checkers and at run time.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest

import ocpp_schedule
from ocpp_schedule.wire._docstrings import DocumentedModel, attribute_docstrings
from ocpp_schedule.wire._lazy import lazy_attributes, lazy_names

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "ocpp_schedule"

HOT_PATH = {
    "ocpp_schedule",
    "ocpp_schedule.errors",
    "ocpp_schedule.wire",
    "ocpp_schedule.wire._answers",
    "ocpp_schedule.wire._docstrings",
    "ocpp_schedule.wire._enums",
    "ocpp_schedule.wire._lazy",
    "ocpp_schedule.wire._models",
    "ocpp_schedule.wire._payloads",
    "ocpp_schedule.wire._timestamps",
    "ocpp_schedule.station",
    "ocpp_schedule.station._config",
    "ocpp_schedule.station._store",
    "ocpp_schedule.engine",
    "ocpp_schedule.engine._answers",
    "ocpp_schedule.engine._compile",
    "ocpp_schedule.engine._composite",
    "ocpp_schedule.engine._index",
    "ocpp_schedule.engine._provenance",
    "ocpp_schedule.engine._v2x",
}
"""Every module of the package ``import ocpp_schedule`` loads: what a composite needs."""

MAX_NEW_MODULES = 80
"""The most modules (the package's, pydantic's, the standard library's) the import may load
after ``import pydantic``: 68 today (20 of them the package's); 103 before issue 15 item 7
(all of the station, pydantic's plugin loader, importlib.metadata, email)."""

_PROBE = """
import json, sys
import pydantic
before = set(sys.modules)
import ocpp_schedule
new = sorted(set(sys.modules) - before)
models = [
    (c.__module__, c.__qualname__, bool(c.__dict__.get("__pydantic_complete__")))
    for name in new if name.startswith("ocpp_schedule")
    for c in vars(sys.modules[name]).values()
    if isinstance(c, type) and issubclass(c, pydantic.BaseModel) and c.__module__ == name
]
print(json.dumps({"new": new, "models": models}))
"""


def _fresh(code: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def probe() -> Any:
    return _fresh(_PROBE)


def test_the_import_loads_the_hot_path_modules_only(probe: Any) -> None:
    own = {name for name in probe["new"] if name.startswith("ocpp_schedule")}
    assert own == HOT_PATH


def test_the_import_loads_a_bounded_number_of_modules(probe: Any) -> None:
    assert len(probe["new"]) <= MAX_NEW_MODULES, len(probe["new"])
    # pydantic's plugin scan (importlib.metadata, email) runs when a first model is built
    assert not [m for m in probe["new"] if m.startswith(("importlib.metadata", "email"))]


def test_the_import_builds_no_pydantic_model(probe: Any) -> None:
    """Models build on first use (``defer_build``): the import only declares them."""
    assert probe["models"], "the probe sees the wire models"
    assert [m for m in probe["models"] if m[2]] == []


def test_a_model_builds_on_first_use_and_validates_as_before() -> None:
    found = _fresh(
        "import json, ocpp_schedule as o\n"
        "before = o.StationConfig.__pydantic_complete__\n"
        "c = o.StationConfig(evse_ids=(1, 2))\n"
        "print(json.dumps([before, o.StationConfig.__pydantic_complete__, list(c.evse_ids)]))\n"
    )
    assert found == [False, True, [1, 2]]


def test_every_public_name_loads_lazily_and_is_listed() -> None:
    """``from ocpp_schedule import X`` and ``dir()`` see every name, loaded or not."""
    found = _fresh(
        "import json, sys, ocpp_schedule as o\n"
        "listed = set(dir(o))\n"
        "missing = [n for n in o.__all__ if n not in listed]\n"
        "loaded = 'ocpp_schedule.station._capabilities' in sys.modules\n"
        "from ocpp_schedule import OCPP16_DEFAULTS, adapt\n"
        "values = [getattr(o, n) is not None for n in o.__all__]\n"
        "print(json.dumps([missing, loaded, all(values), OCPP16_DEFAULTS.ocpp_version.value]))\n"
    )
    assert found == [[], False, True, "1.6"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'ocpp_schedule' has no attribute 'nope'"):
        ocpp_schedule.nope  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError, match=r"'ocpp_schedule\.station' has no attribute 'nope'"):
        importlib.import_module("ocpp_schedule.station").nope  # noqa: B018


def _type_checking_names(path: Path) -> dict[str, set[str]]:
    """What the ``if TYPE_CHECKING:`` block of a package face imports, per module."""
    tree = ast.parse(path.read_text())
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    names: dict[str, set[str]] = {}
    for block in blocks:
        for node in block.body:
            assert isinstance(node, ast.ImportFrom)
            names.setdefault("." * node.level + (node.module or ""), set()).update(
                alias.name for alias in node.names
            )
    return names


@pytest.mark.parametrize(
    ("face", "package"),
    [("__init__.py", "ocpp_schedule"), ("station/__init__.py", "ocpp_schedule.station")],
)
def test_the_type_checkers_view_is_the_lazy_map(face: str, package: str) -> None:
    """mypy sees a lazy name through the TYPE_CHECKING import: both lists stay equal."""
    lazy = importlib.import_module(package)._LAZY
    seen = _type_checking_names(PACKAGE / face)
    flat = {name for names in seen.values() for name in names}
    assert flat == set(lazy)
    for module, names in seen.items():
        absolute = importlib.util.resolve_name(module, package)
        for name in names:
            assert importlib.util.resolve_name(lazy[name], package).startswith(absolute)


def test_lazy_names_refuse_a_name_twice() -> None:
    with pytest.raises(ValueError, match="'x' is listed under 'a' and 'b'"):
        lazy_names({"a": ("x",), "b": ("x",)})


def test_a_lazy_name_is_cached_after_its_first_read() -> None:
    namespace: dict[str, Any] = {"__name__": "demo"}
    getattr_, dir_ = lazy_attributes(namespace, {"dumps": "json"})
    assert "dumps" in dir_() and "dumps" not in namespace
    assert getattr_("dumps") is json.dumps and namespace["dumps"] is json.dumps


def _models() -> list[type[pydantic.BaseModel]]:
    """Every pydantic model the package defines (importing every module)."""
    import pkgutil

    found = []
    for info in pkgutil.walk_packages(ocpp_schedule.__path__, "ocpp_schedule."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, pydantic.BaseModel)
            and value.__module__ == module.__name__
        ]
    return found


def test_descriptions_are_pydantics_attribute_docstrings() -> None:
    """DocumentedModel gives each field the description ``use_attribute_docstrings`` would."""
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    checked = 0
    for model in _models():
        if not issubclass(model, DocumentedModel) or model is DocumentedModel:
            continue
        docs = extract_docstrings_from_cls(model, use_inspect=True)
        for name, field in model.model_fields.items():
            if name in docs and name in model.__annotations__:
                explicit = "description" in field._attributes_set  # Field(description=...)
                assert explicit or field.description == docs[name], (model, name)
                checked += 1
        schema = model.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == name), None)
            if field is not None and field.description:
                assert prop.get("description") == field.description, (model, name)
    assert checked > 60


def test_a_model_defined_in_a_function_gets_its_descriptions() -> None:
    class Local(DocumentedModel):
        amps: float = 0.0
        """The current, in A."""
        watts: float = pydantic.Field(default=0.0, description="explicit")
        """Not taken: an explicit description wins."""

    assert Local.model_fields["amps"].description == "The current, in A."
    assert Local.model_fields["watts"].description == "explicit"
    assert Local.model_json_schema()["properties"]["amps"]["description"] == "The current, in A."
    assert attribute_docstrings(Local, None) == {}


def test_an_eagerly_built_model_is_rebuilt_with_its_descriptions() -> None:
    class Eager(DocumentedModel):
        model_config = pydantic.ConfigDict(defer_build=False)
        volts: float = 230.0
        """The supply voltage."""

    assert Eager.__pydantic_complete__
    assert Eager.model_json_schema()["properties"]["volts"]["description"] == (
        "The supply voltage."
    )


def _first_use_race(base: type[pydantic.BaseModel], rounds: int, threads: int) -> list[str]:
    """Build ``rounds`` fresh deferred models and validate each first from ``threads`` threads
    released together; the errors seen (none when a first build is thread-safe)."""
    import threading

    errors: list[str] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows
    try:
        for round_ in range(rounds):
            fields = {f"f{i}": pydantic.Field(default=i) for i in range(12)}
            namespace = {"__annotations__": dict.fromkeys(fields, int), **fields}
            model: Any = type(base)(
                f"Raced{round_}", (base,), {"__module__": __name__, **namespace}
            )
            barrier = threading.Barrier(threads)

            def first_use(model: Any = model, barrier: threading.Barrier = barrier) -> None:
                try:
                    barrier.wait()
                    assert model(f0=5).f0 == 5 and model.model_validate({"f1": 3}).f11 == 11
                except Exception as exc:  # collected, asserted below
                    errors.append(repr(exc)[:200])

            workers = [threading.Thread(target=first_use) for _ in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
    finally:
        sys.setswitchinterval(switch)
    return errors


def test_a_first_use_from_many_threads_builds_once_and_validates_right() -> None:
    """pydantic 2.13's model_rebuild is not thread-safe: without DeferredModel's lock about 1
    in 30 such rounds fails, some with the parent model's validator ("Extra inputs are not
    permitted" for the model's own fields)."""
    from ocpp_schedule.wire._models import _Model

    assert _first_use_race(_Model, rounds=150, threads=8) == []
