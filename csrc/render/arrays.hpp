// Scenes and cameras from flat arrays (the layout the Python side compiles scenes into).
//
//   spheres    n x 4   center xyz, radius           materials  m x 5   kind, rgb, param
//   triangles  n x 9   three vertices xyz           environment 6      top rgb, bottom rgb
//   planes     n x 6   point xyz, unit normal xyz   camera     13      eye, look_at, up,
//                                                                       vfov, aperture,
//                                                                       focus distance, thin
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "render/camera.hpp"
#include "render/scene.hpp"

namespace supervm::render {

std::unique_ptr<Scene> scene_from_arrays(
    const float* spheres, const std::int32_t* sphere_material, std::size_t nspheres,
    const float* triangles, const std::int32_t* triangle_material, std::size_t ntriangles,
    const float* planes, const std::int32_t* plane_material, std::size_t nplanes,
    const float* materials, std::size_t nmaterials, const float* environment);

Camera camera_from_array(const float* values, int width, int height);

}  // namespace supervm::render
