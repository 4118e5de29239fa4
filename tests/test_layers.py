"""imn_export's packages import downwards only (issue #19): a module may import its own package
and the layers below it, never above, so no two packages depend on each other."""

import ast
from pathlib import Path

import imn_export

# Lowest first. Modules at the package root are their own units.
LAYERS = [
    {"io", "metrics", "device", "nn", "data", "weights"},
    {"identity"},           # dlib teacher, descriptor cache, identity presets
    {"donors"},             # the face prior and the donor bank of Masks v2
    {"verify"},             # invertibility and parity checks
    {"export"},             # formats and graphs tables, per-target code, the exporter
    {"evaluate"},           # measures networks, bundles and the SDK on faces and photos
    {"train"},              # trainers, and the loss-ratio sweep that evaluates them
    {"cli"},
]
ROOT = Path(imn_export.__file__).parent


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _level(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def test_every_package_has_a_layer():
    units = {p.stem if p.is_file() else p.name for p in ROOT.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert units == set().union(*LAYERS)


def test_imports_point_down():
    upward = []
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        unit = _unit(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imn_export."):
                target = _unit(node.module)
                if target != unit and _level(target) > _level(unit):
                    upward.append(f"{module} imports {node.module}")
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)
