// Unpack the flat arrays of arrays.hpp into a Scene and a Camera.
#include "render/arrays.hpp"

#include <stdexcept>

namespace supervm::render {
namespace {

Vec3 at(const float* p) { return {p[0], p[1], p[2]}; }

}  // namespace

std::unique_ptr<Scene> scene_from_arrays(
    const float* spheres, const std::int32_t* sphere_material, std::size_t nspheres,
    const float* triangles, const std::int32_t* triangle_material, std::size_t ntriangles,
    const float* planes, const std::int32_t* plane_material, std::size_t nplanes,
    const float* materials, std::size_t nmaterials, const float* environment) {
    auto scene = std::make_unique<Scene>();
    for (std::size_t i = 0; i < nspheres; ++i) {
        const float* s = spheres + 4 * i;
        scene->prims.spheres.push_back({at(s), s[3]});
        scene->prim_material.push_back(sphere_material[i]);
    }
    for (std::size_t i = 0; i < ntriangles; ++i) {
        const float* t = triangles + 9 * i;
        Vec3 a = at(t), b = at(t + 3), c = at(t + 6);
        scene->prims.triangles.push_back({a, b - a, c - a});
        scene->prim_material.push_back(triangle_material[i]);
    }
    for (std::size_t i = 0; i < nplanes; ++i) {
        const float* p = planes + 6 * i;
        scene->planes.push_back({at(p), normalize(at(p + 3))});
        scene->plane_material.push_back(plane_material[i]);
    }
    for (std::size_t i = 0; i < nmaterials; ++i) {
        const float* m = materials + 5 * i;
        auto kind = static_cast<int>(m[0]);
        if (kind < 0 || kind > 3) throw std::invalid_argument("unknown material kind");
        scene->materials.push_back({static_cast<MaterialKind>(kind), at(m + 1), m[4]});
    }
    scene->environment = {at(environment), at(environment + 3)};
    scene->finish();
    return scene;
}

Camera camera_from_array(const float* values, int width, int height) {
    CameraSpec spec;
    spec.eye = at(values);
    spec.look_at = at(values + 3);
    spec.up = at(values + 6);
    spec.vfov_degrees = values[9];
    spec.aperture = values[10];
    spec.focus_distance = values[11];
    spec.thin_lens = values[12] != 0.0f;
    return make_camera(spec, static_cast<float>(width) / static_cast<float>(height));
}

}  // namespace supervm::render
