// A scene the tracer can render: primitives with their materials, planes, environment light.
#pragma once

#include <cstdint>
#include <vector>

#include "render/bvh.hpp"
#include "render/geometry.hpp"
#include "render/vec.hpp"

namespace supervm::render {

enum class MaterialKind : std::int32_t { Lambertian = 0, Metal = 1, Dielectric = 2, Emissive = 3 };

struct Material {
    MaterialKind kind = MaterialKind::Lambertian;
    Vec3 color;        // albedo, or emitted radiance for emissive
    float param = 0;   // metal: fuzz; dielectric: index of refraction
};

// Radiance arriving from direction d where nothing is hit: bottom at d.y = -1, top at +1
// (equal for a constant environment).
struct Environment {
    Vec3 top, bottom;
    Vec3 radiance(const Vec3& d) const {
        float t = 0.5f * (d.y + 1.0f);
        return bottom * (1.0f - t) + top * t;
    }
};

struct SurfaceHit {
    float t;
    std::uint32_t id;  // primitive id; planes follow the primitives
    Vec3 point;
    Vec3 normal;       // geometric, unit length, on the side the primitive defines
    std::int32_t material;
};

struct Scene {
    Primitives prims;
    std::vector<std::int32_t> prim_material;  // one per primitive id
    std::vector<Plane> planes;
    std::vector<std::int32_t> plane_material;
    std::vector<Material> materials;
    Environment environment;
    Bvh bvh;

    // Check material indices and build the hierarchy; throws std::invalid_argument.
    void finish();
    // Nearest surface along `ray` beyond kRayEpsilon; `brute` skips the hierarchy.
    bool intersect(const Ray& ray, SurfaceHit& hit, bool brute = false) const;
};

}  // namespace supervm::render
