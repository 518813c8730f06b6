"""Actions as data on disk: plan files for `smewizard apply --plan`, and the journal.

An action serialises as `{"type": "SetProp", "fields": {"db": "configuration", …}}`. Loading
checks the type is a known smewizard Action, every field is one it declares with the declared
plain type (text, number, flag, list of text), and then builds the action, which validates
every value (`smewizard.validate`). A hostile or broken plan therefore raises `PlanError` with
a message naming the action and field, and nothing is run. Format: docs/safe-apply.md.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from smewizard.actions.base import Action
from smewizard.validate import InvalidValue

PLAN_FORMAT = "smewizard-plan"
PLAN_VERSION = 1
MAX_PLAN_BYTES = 1 << 20
MAX_ACTIONS = 500


class PlanError(InvalidValue):
    """A plan file or serialised action that cannot be used; nothing was changed."""


@functools.cache
def _load_action_modules() -> None:
    import importlib
    import pkgutil

    import smewizard.actions as package
    from smewizard.steps.registry import STEP_INFO, load_step

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"smewizard.actions.{module.name}")
    for info in STEP_INFO:  # step modules may define their own action types
        try:
            load_step(info)
        except Exception:  # noqa: BLE001 - a broken step must not hide the others' actions
            continue


def action_types() -> dict[str, type[Action]]:
    """Every concrete Action class defined in smewizard, by type name: the class name, or
    `module.Class` when two modules define a class of the same name."""
    _load_action_modules()
    classes: list[type[Action]] = []
    pending = list(Action.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("smewizard.") and dataclasses.is_dataclass(cls):
            classes.append(cls)
    names = [c.__name__ for c in classes]
    found: dict[str, type[Action]] = {}
    for cls in classes:
        found[f"{cls.__module__}.{cls.__name__}"] = cls
        if names.count(cls.__name__) == 1:
            found[cls.__name__] = cls
    return found


def type_name(cls: type[Action]) -> str:
    types_by_name = action_types()
    return cls.__name__ if types_by_name.get(cls.__name__) is cls else f"{cls.__module__}.{cls.__name__}"


def action_to_json(action: Action) -> dict[str, Any]:
    fields = {}
    for f in dataclasses.fields(action):  # type: ignore[arg-type]
        value = getattr(action, f.name)
        fields[f.name] = _plain(value)
    return {"type": type_name(type(action)), "fields": fields}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise PlanError(f"value of type {type(value).__name__} cannot be saved in a plan")


def action_from_json(data: Any, *, where: str = "action") -> Action:
    if not isinstance(data, dict) or set(data) - {"type", "fields", "summary", "commands"}:
        raise PlanError(f"{where}: must be an object with 'type' and 'fields'")
    name, fields = data.get("type"), data.get("fields")
    types_by_name = action_types()
    if not isinstance(name, str) or name not in types_by_name:
        raise PlanError(f"{where}: unknown action type {str(name)[:60]!r}")
    if not isinstance(fields, dict):
        raise PlanError(f"{where}: 'fields' must be an object")
    cls = types_by_name[name]
    declared = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    unknown = set(fields) - set(declared)
    if unknown:
        raise PlanError(f"{where} ({name}): unknown field(s) {', '.join(sorted(map(str, unknown)))[:120]}")
    kwargs = {}
    for key, value in fields.items():
        kwargs[key] = _coerce(value, hints[key], f"{where} ({name}) field {key!r}")
    try:
        return cls(**kwargs)
    except InvalidValue as exc:
        raise PlanError(f"{where} ({name}): {exc}") from None
    except TypeError as exc:
        raise PlanError(f"{where} ({name}): {exc}") from None


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where)
            except PlanError as exc:
                errors.append(str(exc))
        raise PlanError(errors[0] if errors else f"{where}: wrong type")
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list) or len(value) > 1000:
            raise PlanError(f"{where}: must be a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], where) for v in value)
        if len(args) != len(value):
            raise PlanError(f"{where}: must have {len(args)} elements")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args, strict=True))
    if hint is bool:
        if not isinstance(value, bool):
            raise PlanError(f"{where}: must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PlanError(f"{where}: must be a whole number")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PlanError(f"{where}: must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise PlanError(f"{where}: must be text")
        return value
    raise PlanError(f"{where}: this field cannot be loaded from a plan")


def plan_to_json(actions: Sequence[Action], *, target: str = "", note: str = "") -> dict[str, Any]:
    return {
        "format": PLAN_FORMAT,
        "version": PLAN_VERSION,
        "target": target,
        "note": note,
        "actions": [
            {**action_to_json(a), "summary": a.summary(), "commands": a.shell()} for a in actions
        ],
    }


def load_plan_text(text: str) -> list[Action]:
    """Actions from a plan file, or from `smewizard check --json` output (its actions)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PLAN_BYTES:
        raise PlanError(f"plan is larger than {MAX_PLAN_BYTES} bytes")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise PlanError(f"plan is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PlanError("plan must be a JSON object")
    entries = list(_entries(data))
    if len(entries) > MAX_ACTIONS:
        raise PlanError(f"plan has more than {MAX_ACTIONS} actions")
    return [action_from_json(e, where=f"action {i}") for i, e in enumerate(entries, 1)]


def _entries(data: dict[str, Any]) -> Iterable[Any]:
    if data.get("format") == PLAN_FORMAT:
        if data.get("version") != PLAN_VERSION:
            raise PlanError(f"plan version {data.get('version')!r} is not supported (expected {PLAN_VERSION})")
        actions = data.get("actions")
        if not isinstance(actions, list):
            raise PlanError("plan has no 'actions' list")
        return actions
    steps = data.get("steps")
    if isinstance(steps, dict) and "schema" in data:  # `smewizard check --json` output
        out = []
        for key, step in steps.items():
            for i, entry in enumerate(step.get("actions", []) if isinstance(step, dict) else []):
                serialised = entry.get("action") if isinstance(entry, dict) else None
                if serialised is None:
                    raise PlanError(f"step {key} action {i + 1} cannot be applied from a plan")
                out.append(serialised)
        return out
    raise PlanError(f"not a smewizard plan (no \"format\": \"{PLAN_FORMAT}\") nor `check --json` output")


def dump_plan(actions: Sequence[Action], *, target: str = "", note: str = "") -> str:
    return json.dumps(plan_to_json(actions, target=target, note=note), indent=2) + "\n"
