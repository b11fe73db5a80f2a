"""A spec as the Python that rebuilds it: `ig.Generate(prompt="…", num_images=2)`.

Why here and not in the history export: "copy these settings" (`Spec.to_python`, the Studio)
and the exported notebooks must write the very same code, and the spec layer must not import
the history. Why the classes are found by walking `Spec`'s subclasses instead of importing
the registry: the registry imports the spec classes, whose base imports this module, so an
import of the registry here would close a cycle (`tests/test_architecture.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._fields import ImageListParam, ImageParam

#: Code lines longer than this put one field per line.
MAX_LINE = 88
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_PACKAGE = __name__.split(".")[0]


def py_literal(value: Any) -> str:
    """A Python literal for a JSON value; strings in double quotes, like hand-written code."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are Python's too
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _sha(ref: str) -> str | None:
    text = ref.strip().lower().removeprefix("sha256:")
    return text if _SHA_RE.match(text) else None


def _image_code(value: Any, store_expr: str) -> str:
    sha = _sha(value) if isinstance(value, str) else None
    return f'{store_expr}.path("{sha}")' if sha else py_literal(value)


def spec_classes() -> dict[str, type]:
    """endpoint → spec class, for every class the package declares (v2 ones included): the
    `param.Parameterized` subclasses of this package with an `endpoint` and a `family`."""
    import param

    found: dict[str, type] = {}
    todo = list(param.Parameterized.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo.extend(cls.__subclasses__())
        endpoint = getattr(cls, "endpoint", "")
        mine = cls.__module__.split(".")[0] == _PACKAGE
        if mine and isinstance(endpoint, str) and endpoint and getattr(cls, "family", "") and endpoint not in found:
            found[endpoint] = cls
    return found


def spec_call(cls: type, fields: Mapping[str, Any], *, var: str | None = "spec", store_expr: str) -> str:
    """`var = ig.Cls(a=1, b="x")` with `fields` (JSON values, images as `sha256:` refs) in the
    class's declaration order; image refs become paths in the image store `store_expr`."""
    names = [n for n in cls.param if n != "name"]  # type: ignore[attr-defined]
    order = {name: i for i, name in enumerate(names)}
    args: list[str] = []
    for name in sorted(fields, key=order.__getitem__):
        p, value = cls.param[name], fields[name]  # type: ignore[attr-defined]
        if isinstance(p, ImageParam):
            code = _image_code(value, store_expr)
        elif isinstance(p, ImageListParam) and isinstance(value, list):
            code = "[" + ", ".join(_image_code(v, store_expr) for v in value) + "]"
        else:
            code = py_literal(value)
        args.append(f"{name}={code}")
    head = (f"{var} = " if var else "") + f"ig.{cls.__name__}("
    one_line = head + ", ".join(args) + ")"
    if len(one_line) <= MAX_LINE or not args:
        return one_line
    return head + "\n" + "".join(f"    {arg},\n" for arg in args) + ")"


def spec_source(spec: Mapping[str, Any], *, var: str = "spec", store_expr: str = "history.store") -> str:
    """`spec = ig.Generate(prompt="…", num_images=2)`: a recorded `to_dict()` as code.

    Fields come in the class's declaration order; image inputs become paths in the image
    store, so the rebuilt spec sends the very same bytes and hashes to the same request. A
    spec this version does not know (an endpoint or field from elsewhere) is rebuilt with
    `ig.spec_from_dict`, which then names what it cannot take.
    """
    endpoint = spec.get("endpoint")
    cls = spec_classes().get(endpoint) if isinstance(endpoint, str) else None
    fields = {k: v for k, v in spec.items() if k != "endpoint"}
    if cls is None or any(k not in cls.param or k == "name" for k in fields):  # type: ignore[attr-defined]
        return f"{var} = ig.spec_from_dict({py_literal(dict(spec))})"
    return spec_call(cls, fields, var=var, store_expr=store_expr)
