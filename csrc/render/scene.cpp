// Scene assembly and nearest-surface queries over the BVH and the planes.
#include "render/scene.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace supervm::render {

void Scene::finish() {
    if (prim_material.size() != prims.size() || plane_material.size() != planes.size())
        throw std::invalid_argument("one material index per primitive and per plane");
    auto check = [&](std::int32_t m) {
        if (m < 0 || static_cast<std::size_t>(m) >= materials.size())
            throw std::invalid_argument("material index " + std::to_string(m) + " out of range");
    };
    for (auto m : prim_material) check(m);
    for (auto m : plane_material) check(m);
    bvh.build(prims);
}

bool Scene::intersect(const Ray& ray, SurfaceHit& hit, bool brute) const {
    NearestHit near = brute ? nearest_brute(prims, ray, kRayEpsilon, INFINITY)
                            : bvh.nearest(prims, ray, kRayEpsilon, INFINITY);
    float best = near.t;
    std::uint32_t id = near.prim;
    // Planes are few and unbounded: test each one against the best hit so far.
    for (std::size_t i = 0; i < planes.size(); ++i) {
        float t = render::intersect(planes[i], ray, kRayEpsilon, best);
        if (t > 0) {
            best = t;
            id = prims.size() + static_cast<std::uint32_t>(i);
        }
    }
    if (id == kNoHit) return false;
    hit.t = best;
    hit.id = id;
    hit.point = ray.origin + ray.dir * best;
    std::size_t nspheres = prims.spheres.size();
    if (id < nspheres) {
        const Sphere& s = prims.spheres[id];
        hit.normal = (hit.point - s.center) / s.radius;
        hit.material = prim_material[id];
    } else if (id < prims.size()) {
        const Triangle& tri = prims.triangles[id - nspheres];
        hit.normal = normalize(cross(tri.e1, tri.e2));
        hit.material = prim_material[id];
    } else {
        std::size_t p = id - prims.size();
        hit.normal = planes[p].normal;
        hit.material = plane_material[p];
    }
    return true;
}

}  // namespace supervm::render
