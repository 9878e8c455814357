"""The form engine: sheet definitions (spec), their registry, field kinds,
the WTForms builder, change lists, content hashing and the print layout."""
from .builder import build_form, errors, fill_sources, form_data, validate_field
from .canonical import canonical_json, content_hash
from .diff import diff
from .printable import printable
from .registry import all_specs, get, load_builtin, register, unregister
from .spec import Field, FormSpec, Section, Slot, Table, check_spec, parse_signer

__all__ = [
    "Field", "FormSpec", "Section", "Slot", "Table", "check_spec", "parse_signer",
    "register", "unregister", "get", "all_specs", "load_builtin",
    "build_form", "form_data", "errors", "fill_sources", "validate_field",
    "diff", "canonical_json", "content_hash", "printable",
]
