"""Names of a package face that load their module on first use (PEP 562).

``import ocpp_schedule`` loads what the composite hot path needs (the wire models,
the profile store, the engine) and nothing else: the station's message modules,
the site controller and the CSMS tools load when one of their names is first
read (issue 15 item 7). A package lists those names per module; a type checker
sees them through an ``if TYPE_CHECKING:`` import of the same names, which
``tests/test_import_time.py`` holds equal to the list.
"""

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(modules: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """``{module: (name, ...)}`` -> ``{name: module}``; a name listed twice is an error."""
    lazy: dict[str, str] = {}
    for module, names in modules.items():
        for name in names:
            if name in lazy:
                raise ValueError(f"{name!r} is listed under {lazy[name]!r} and {module!r}")
            lazy[name] = module
    return lazy


def lazy_attributes(
    namespace: dict[str, Any], lazy: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose globals are ``namespace``.

    ``lazy`` maps a name to its module, absolute or relative to the package. A name is
    imported from its module on first read and then kept in the package's globals, so
    later reads cost nothing; ``dir()`` lists the names not yet loaded too.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *lazy})

    return __getattr__, __dir__
