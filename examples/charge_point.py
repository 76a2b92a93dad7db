"""A charge point whose smart charging is ocpp-schedule's pure functions (OCPP 1.6, 2.0.1, 2.1).

    pip install 'ocpp-schedule[ocpp]'
    python examples/charge_point.py --ocpp 2.0.1 --url ws://127.0.0.1:9000 --id CP1

It connects to a CSMS (``examples/csms.py``) over WebSockets with the ``ocpp``
package, sends a BootNotification, starts one transaction on EVSE 1 (1.6
StartTransaction, 2.x TransactionEvent; ``--no-transaction``: none), then
answers until the CSMS closes the connection. It reports its smart-charging limits
as a real station does: 1.6 GetConfiguration keys, 2.x GetVariables of its device
model (``SmartChargingCtrlr``, its EVSE components); they are not the library's
defaults (8 stack levels, 24 periods per schedule), so the CSMS must discover them.
Its SetChargingProfile, ClearChargingProfile and GetCompositeSchedule handlers are three lines each:
read the message with :mod:`ocpp_schedule.tools.adapters`, apply the library's pure
function to the :class:`~ocpp_schedule.ProfileStore` the station keeps
(``install``, ``clear``, ``CompositeQuery.answer``), write the answer back.
"""

# The ocpp package is untyped: its base classes and @on decorator are Any to mypy.
# mypy: disable-error-code="misc, untyped-decorator"

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.exceptions import FormatViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.typing import Subprotocol

from ocpp_schedule import (
    OcppScheduleError,
    OcppVersion,
    ProfileStore,
    StationConfig,
    StationState,
    Transaction,
    clear,
    install,
)
from ocpp_schedule.tools.adapters import (
    from_ocpp_clear_charging_profile,
    from_ocpp_get_composite_schedule,
    from_ocpp_set_charging_profile,
    to_ocpp_clear_charging_profile_result,
    to_ocpp_get_composite_schedule_result,
    to_ocpp_set_charging_profile_result,
)
from ocpp_schedule.wire import format_timestamp

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The station's clock: now, in UTC."""
    return datetime.now(UTC)


class SmartCharging:
    """What the station holds for smart charging, and the three handlers as pure steps.

    ``store`` is replaced (never changed in place) by every accepted request.
    """

    def __init__(self, version: OcppVersion, config: StationConfig, clock: Clock = utc_now) -> None:
        self.version = version
        self.config = config
        self.clock = clock
        self.store = ProfileStore()
        self.transactions: tuple[Transaction, ...] = ()

    @property
    def state(self) -> StationState:
        """The station as the rules see it: configuration, version, transactions."""
        return StationState(self.config, self.version, self.transactions)

    def configuration_keys(self) -> list[dict[str, Any]]:
        """The 1.6 GetConfiguration keys that describe the station's smart charging."""
        cfg = self.config
        units = {"A": "Current", "W": "Power"}
        values = {
            "ChargeProfileMaxStackLevel": str(cfg.charge_profile_max_stack_level),
            "ChargingScheduleAllowedChargingRateUnit": ",".join(
                units[u.value] for u in sorted(cfg.charging_schedule_allowed_charging_rate_unit)
            ),
            "ChargingScheduleMaxPeriods": str(cfg.charging_schedule_max_periods),
            "MaxChargingProfilesInstalled": str(cfg.max_charging_profiles_installed),
            "NumberOfConnectors": str(len(cfg.evse_ids or (1,))),
            "HeartbeatInterval": "300",
        }
        return [{"key": k, "readonly": True, "value": v} for k, v in values.items()]

    def variable(self, component: dict[str, Any], variable: dict[str, Any]) -> dict[str, Any]:
        """One 2.x GetVariables result from the station's device model."""
        cfg = self.config
        model: dict[tuple[str, str, str | None], str] = {
            ("SmartChargingCtrlr", "ProfileStackLevel", None): str(
                cfg.charge_profile_max_stack_level
            ),
            ("SmartChargingCtrlr", "RateUnit", None): ",".join(
                sorted(u.value for u in cfg.charging_schedule_allowed_charging_rate_unit)
            ),
            ("SmartChargingCtrlr", "PeriodsPerSchedule", None): str(
                cfg.charging_schedule_max_periods
            ),
        }
        evse = (component.get("evse") or {}).get("id")
        key = (component["name"], variable["name"], variable.get("instance"))
        result: dict[str, Any] = {"component": component, "variable": variable}
        if component["name"] == "EVSE":
            if evse not in (cfg.evse_ids or ()):
                return {**result, "attribute_status": "UnknownComponent"}
            if variable["name"] == "SupplyPhases":
                return {**result, "attribute_status": "Accepted", "attribute_value": "3"}
        if key in model and evse is None:
            return {**result, "attribute_status": "Accepted", "attribute_value": model[key]}
        return {**result, "attribute_status": "UnknownVariable"}

    def set_charging_profile(self, kwargs: dict[str, Any]) -> Any:
        """SetChargingProfile: the rules decide; an accepted profile joins the store."""
        request = _read(from_ocpp_set_charging_profile, kwargs, self.version)
        self.store, result = install(self.store, request, self.state)
        return to_ocpp_set_charging_profile_result(result, self.version)

    def clear_charging_profile(self, kwargs: dict[str, Any]) -> Any:
        """ClearChargingProfile: remove what the request matches."""
        request = _read(from_ocpp_clear_charging_profile, kwargs, self.version)
        self.store, result = clear(self.store, request, self.version)
        return to_ocpp_clear_charging_profile_result(result, self.version)

    def get_composite_schedule(self, kwargs: dict[str, Any]) -> Any:
        """GetCompositeSchedule: the composite from the moment of receipt (K08.FR.02)."""
        query = _read(from_ocpp_get_composite_schedule, kwargs, self.version)
        answer = query.answer(
            self.store,
            self.version,
            start=self.clock(),
            transactions=self.transactions,
            config=self.config,
        )
        return to_ocpp_get_composite_schedule_result(answer, self.version)


def _read(reader: Callable[[Any, OcppVersion], Any], kwargs: dict[str, Any], v: OcppVersion) -> Any:
    """A message the library cannot read (a naive timestamp, ...) answers a CALLERROR."""
    try:
        return reader(kwargs, v)
    except OcppScheduleError as exc:
        raise FormatViolationError(description=str(exc)) from None


class _Handlers:
    """The routes: each handler hands its keyword arguments to :class:`SmartCharging`."""

    smart_charging: SmartCharging

    @on("SetChargingProfile")
    def on_set_charging_profile(self, **kwargs: Any) -> Any:
        return self.smart_charging.set_charging_profile(kwargs)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **kwargs: Any) -> Any:
        return self.smart_charging.clear_charging_profile(kwargs)

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, **kwargs: Any) -> Any:
        return self.smart_charging.get_composite_schedule(kwargs)


class Station16(_Handlers, ChargePoint16):
    """An OCPP 1.6 charge point."""

    @on("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        keys = self.smart_charging.configuration_keys()
        known = [k for k in keys if key is None or k["key"] in key]
        unknown = [k for k in (key or []) if k not in {item["key"] for item in keys}]
        return result16.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    async def boot(self) -> None:
        await self.call(
            call16.BootNotification(charge_point_model="Demo", charge_point_vendor="ocpp-schedule")
        )

    async def start_transaction(self, evse_id: int) -> Transaction:
        now = self.smart_charging.clock()
        result = await self.call(
            call16.StartTransaction(
                connector_id=evse_id, id_tag="DEMO", meter_start=0, timestamp=format_timestamp(now)
            )
        )
        return Transaction(str(result.transaction_id), evse_id, now)


class _Station2x(_Handlers):
    """What an OCPP 2.0.1 and a 2.1 charging station share: boot, transactions, variables."""

    _ids = itertools.count(1)
    _calls: Any
    _results: Any

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = [
            self.smart_charging.variable(item["component"], item["variable"])
            for item in get_variable_data
        ]
        return self._results.GetVariables(get_variable_result=results)

    async def boot(self) -> None:
        await self.call(  # type: ignore[attr-defined]
            self._calls.BootNotification(
                charging_station={"model": "Demo", "vendor_name": "ocpp-schedule"},
                reason="PowerUp",
            )
        )

    async def start_transaction(self, evse_id: int) -> Transaction:
        now = self.smart_charging.clock()
        tx_id = f"{self.id}-{next(self._ids)}"  # type: ignore[attr-defined]
        await self.call(  # type: ignore[attr-defined]
            self._calls.TransactionEvent(
                event_type="Started",
                timestamp=format_timestamp(now),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": tx_id},
                evse={"id": evse_id, "connector_id": 1},
            )
        )
        return Transaction(tx_id, evse_id, now)


class Station201(_Station2x, ChargePoint201):
    """An OCPP 2.0.1 charging station."""

    _calls, _results = call201, result201


class Station21(_Station2x, ChargePoint21):
    """An OCPP 2.1 charging station."""

    _calls, _results = call21, result21


SUBPROTOCOLS = {
    OcppVersion.V16: "ocpp1.6",
    OcppVersion.V201: "ocpp2.0.1",
    OcppVersion.V21: "ocpp2.1",
}
CLASSES: dict[OcppVersion, type[Any]] = {
    OcppVersion.V16: Station16,
    OcppVersion.V201: Station201,
    OcppVersion.V21: Station21,
}


def station_config(evses: int) -> StationConfig:
    """The demo station's smart-charging limits: not the library's defaults, so a CSMS
    that assumed the defaults would mispredict (it must discover them)."""
    return StationConfig.with_evses(
        evses, charge_profile_max_stack_level=8, charging_schedule_max_periods=24
    )


async def run_charge_point(
    url: str,
    station_id: str,
    version: OcppVersion,
    *,
    evses: int = 2,
    transaction_evse: int | None = 1,
    clock: Clock = utc_now,
    response_timeout: float = 10,
) -> SmartCharging:
    """Connect, boot, start a transaction, answer until the CSMS closes; return the final state."""
    smart = SmartCharging(version, station_config(evses), clock)
    cls = CLASSES[version]
    async with websockets.connect(
        f"{url.rstrip('/')}/{station_id}", subprotocols=[Subprotocol(SUBPROTOCOLS[version])]
    ) as ws:
        cp = cls(station_id, ws, response_timeout=response_timeout)
        cp.smart_charging = smart
        serving = asyncio.create_task(cp.start())
        try:
            await cp.boot()
            if transaction_evse is not None:
                tx = await cp.start_transaction(transaction_evse)
                smart.transactions = (*smart.transactions, tx)
            await serving
        except websockets.ConnectionClosed:
            pass
        finally:
            serving.cancel()
    return smart


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1", "2.1"], default="2.0.1")
    parser.add_argument("--url", default="ws://127.0.0.1:9000", help="the CSMS")
    parser.add_argument("--id", default="CP1", help="the station's identity")
    parser.add_argument("--evses", type=int, default=2, help="EVSEs 1..N (default 2)")
    parser.add_argument("--no-transaction", action="store_true", help="start no transaction")
    parser.add_argument("--verbose", action="store_true", help="log every OCPP message")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    smart = asyncio.run(
        run_charge_point(
            args.url,
            args.id,
            OcppVersion(args.ocpp),
            evses=args.evses,
            transaction_evse=None if args.no_transaction else 1,
        )
    )
    print(f"{args.id}: disconnected holding {smart.store!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
