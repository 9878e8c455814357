"""The sheets the application knows, by key. Built-in sheets are the modules
of salestrack.forms, each with a module-level FORM."""
from __future__ import annotations

import importlib
import pkgutil

from .spec import FormSpec, check_spec

_specs: dict[str, FormSpec] = {}
_builtin_loaded = False


def register(spec: FormSpec) -> FormSpec:
    """Add a sheet after checking it; its key and number prefix must be new."""
    check_spec(spec)
    if spec.key in _specs:
        raise ValueError(f"sheet {spec.key!r} is already registered")
    for other in _specs.values():
        if other.prefix == spec.prefix:
            raise ValueError(f"prefix {spec.prefix!r} of {spec.key!r} is already used by {other.key!r}")
    _specs[spec.key] = spec
    return spec


def unregister(key: str) -> None:
    _specs.pop(key, None)


def get(key: str) -> FormSpec:
    """The sheet with this key; KeyError if there is none."""
    _ensure_builtin()
    return _specs[key]


def all_specs() -> list[FormSpec]:
    """Every sheet in the toolkit's order (FormSpec.order, then key)."""
    _ensure_builtin()
    return sorted(_specs.values(), key=lambda spec: (spec.order, spec.key))


def customer_master_sheet() -> FormSpec | None:
    """The sheet whose approval keeps the customer master (holds_customer_master),
    or None when no registered sheet does."""
    return next((spec for spec in all_specs() if spec.holds_customer_master()), None)


def worklist_keys() -> list[str]:
    """Keys of the sheets whose approval lands them in the implementation
    worklist (FormSpec.worklist), in toolkit order."""
    return [spec.key for spec in all_specs() if spec.worklist]


def providers() -> dict[str, FormSpec]:
    """{name: sheet} of the sheets other sheets read source values from
    (FormSpec.provides, e.g. 'contract' → 合同评审记录)."""
    return {spec.provides: spec for spec in all_specs() if spec.provides}


def load_builtin() -> list[FormSpec]:
    """Import every module of salestrack.forms and register its FORM. Safe to
    call again: a sheet already registered as the same definition is kept."""
    global _builtin_loaded
    from .. import forms
    loaded = []
    for module_info in sorted(pkgutil.iter_modules(forms.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{forms.__name__}.{module_info.name}")
        spec = getattr(module, "FORM", None)
        if not isinstance(spec, FormSpec):
            raise ValueError(f"{module.__name__} has no FORM = FormSpec(...)")
        if _specs.get(spec.key) != spec:
            register(spec)
        loaded.append(spec)
    _builtin_loaded = True
    return loaded


def _ensure_builtin() -> None:
    if not _builtin_loaded:
        load_builtin()
