// A bounding volume hierarchy over spheres and triangles: binned SAH build, flattened nodes
// in depth-first order, front-to-back traversal.
//
// Planes are unbounded, so they stay out of the hierarchy; the scene tests them separately.
#pragma once

#include <cstdint>
#include <vector>

#include "render/geometry.hpp"

namespace supervm::render {

// Primitive ids: [0, spheres) are spheres, [spheres, spheres + triangles) are triangles.
struct Primitives {
    std::vector<Sphere> spheres;
    std::vector<Triangle> triangles;

    std::uint32_t size() const {
        return static_cast<std::uint32_t>(spheres.size() + triangles.size());
    }
    Box bounds_of(std::uint32_t id) const {
        return id < spheres.size() ? bounds(spheres[id]) : bounds(triangles[id - spheres.size()]);
    }
    float intersect_one(std::uint32_t id, const Ray& ray, float tmin, float tmax) const {
        return id < spheres.size() ? intersect(spheres[id], ray, tmin, tmax)
                                   : intersect(triangles[id - spheres.size()], ray, tmin, tmax);
    }
};

struct BvhNode {
    Box box;
    // Inner node: its left child is the next node, `right` the other; leaf: `first` indexes
    // the reordered primitive list and `count` > 0.
    std::uint32_t right_or_first = 0;
    std::uint16_t count = 0;
    std::uint16_t axis = 0;
};

struct NearestHit {
    float t;
    std::uint32_t prim;  // kNoHit when nothing was hit
};

constexpr std::uint32_t kNoHit = 0xFFFFFFFFu;
constexpr int kStackSize = 256;

class Bvh {
  public:
    void build(const Primitives& prims);
    // Nearest primitive hit by `ray` in (tmin, tmax).
    NearestHit nearest(const Primitives& prims, const Ray& ray, float tmin, float tmax) const;
    std::size_t node_count() const { return nodes_.size(); }

  private:
    std::uint32_t build_node(const Primitives& prims, std::vector<Box>& boxes,
                             std::vector<Vec3>& centers, std::uint32_t first,
                             std::uint32_t count, int depth);
    std::vector<BvhNode> nodes_;
    std::vector<std::uint32_t> order_;
};

// Every primitive against the ray, for checking the hierarchy and measuring what it saves.
NearestHit nearest_brute(const Primitives& prims, const Ray& ray, float tmin, float tmax);

}  // namespace supervm::render
