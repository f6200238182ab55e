"""The scene format's JSON Schema, generated from the models and committed beside the examples.

    python -m supervm.rendering.schema [path]   # rewrite examples/scenes/scene.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from supervm.rendering.scene import Scene

SCHEMA_PATH = Path(__file__).parents[3] / "examples" / "scenes" / "scene.schema.json"


def scene_schema() -> dict[str, Any]:
    """Return the JSON Schema of a scene file."""
    schema = Scene.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "supervm scene"
    return schema


def schema_text() -> str:
    """Return the schema as the committed file holds it."""
    return json.dumps(scene_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH
    target.write_text(schema_text())
    print(f"wrote {target}")
