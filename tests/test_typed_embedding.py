"""The typed embedding (``tests/typed/embedding.py``) runs, and CI type-checks it as a
user's code: ``mypy --config-file tests/typed/mypy.ini tests/typed/embedding.py`` (strict,
no ``Any`` in any expression, without the pydantic plugin; see ``.ci/run``)."""

from __future__ import annotations

import sys
from pathlib import Path

TYPED = Path(__file__).resolve().parent / "typed"
sys.path.insert(0, str(TYPED))
import embedding  # noqa: E402


def test_the_embedding_builds_installs_computes_and_balances() -> None:
    assert embedding.install_and_compute() == 16.0
    assert embedding.balance_a_site() >= 1


def test_the_embedding_round_trips_through_the_typed_ocpp_adapters() -> None:
    assert embedding.round_trip_through_the_ocpp_package() == (1, True, 7)


def test_ci_type_checks_it_without_the_pydantic_plugin() -> None:
    config = (TYPED / "mypy.ini").read_text()
    assert "disallow_any_expr = True" in config and "plugins" not in config
    ci = (TYPED.parent.parent / ".ci" / "run").read_text()
    assert "--config-file tests/typed/mypy.ini tests/typed/embedding.py" in ci
