"""supervm.rendering: the path tracer's Python side (scenes, OBJ meshes, images, render()).

Named `rendering`, not `render`, so the package never shadows the `supervm.render` function.
"""

from supervm.rendering.api import prepare, render
from supervm.rendering.compile import CompiledScene
from supervm.rendering.image import save_image
from supervm.rendering.scene import Scene, SceneError, load_scene

__all__ = ["CompiledScene", "Scene", "SceneError", "load_scene", "prepare", "render",
           "save_image"]
