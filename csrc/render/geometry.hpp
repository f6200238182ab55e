// Primitives (spheres, triangles, planes), their bounds and ray intersection tests.
#pragma once

#include <cmath>
#include <cstdint>

#include "render/vec.hpp"

namespace supervm::render {

// Rays start this far along their direction so a surface never re-hits itself.
constexpr float kRayEpsilon = 1e-4f;

struct Sphere {
    Vec3 center;
    float radius;
};

// Stored as a vertex and two edges, the form the Moller-Trumbore test consumes.
struct Triangle {
    Vec3 v0, e1, e2;
};

struct Plane {
    Vec3 point, normal;  // normal has unit length
};

struct Box {
    Vec3 lo{INFINITY, INFINITY, INFINITY};
    Vec3 hi{-INFINITY, -INFINITY, -INFINITY};

    void grow(const Vec3& p) { lo = vmin(lo, p); hi = vmax(hi, p); }
    void grow(const Box& b) { lo = vmin(lo, b.lo); hi = vmax(hi, b.hi); }
    float area() const {
        Vec3 d = hi - lo;
        if (d.x < 0) return 0;
        return 2.0f * (d.x * d.y + d.y * d.z + d.z * d.x);
    }
    Vec3 center() const { return (lo + hi) * 0.5f; }
};

inline Box bounds(const Sphere& s) {
    Vec3 r{s.radius, s.radius, s.radius};
    return {s.center - r, s.center + r};
}

inline Box bounds(const Triangle& t) {
    Box b;
    b.grow(t.v0);
    b.grow(t.v0 + t.e1);
    b.grow(t.v0 + t.e2);
    return b;
}

// Nearest root of |o + t d - c| = r in (tmin, tmax), or a negative value.
inline float intersect(const Sphere& s, const Ray& ray, float tmin, float tmax) {
    Vec3 oc = ray.origin - s.center;
    float half_b = dot(oc, ray.dir);
    float c = dot(oc, oc) - s.radius * s.radius;
    float disc = half_b * half_b - c;
    if (disc < 0) return -1;
    float root = std::sqrt(disc);
    float t = -half_b - root;
    if (t <= tmin || t >= tmax) {
        t = -half_b + root;
        if (t <= tmin || t >= tmax) return -1;
    }
    return t;
}

inline float intersect(const Triangle& tri, const Ray& ray, float tmin, float tmax) {
    Vec3 p = cross(ray.dir, tri.e2);
    float det = dot(tri.e1, p);
    if (std::fabs(det) < 1e-12f) return -1;
    float inv = 1.0f / det;
    Vec3 s = ray.origin - tri.v0;
    float u = dot(s, p) * inv;
    if (u < 0 || u > 1) return -1;
    Vec3 q = cross(s, tri.e1);
    float v = dot(ray.dir, q) * inv;
    if (v < 0 || u + v > 1) return -1;
    float t = dot(tri.e2, q) * inv;
    return (t > tmin && t < tmax) ? t : -1;
}

inline float intersect(const Plane& pl, const Ray& ray, float tmin, float tmax) {
    float denom = dot(pl.normal, ray.dir);
    if (std::fabs(denom) < 1e-12f) return -1;
    float t = dot(pl.point - ray.origin, pl.normal) / denom;
    return (t > tmin && t < tmax) ? t : -1;
}

// min and max that compile to single instructions (std::fmin must honour NaN rules).
inline float fast_min(float a, float b) { return a < b ? a : b; }
inline float fast_max(float a, float b) { return a > b ? a : b; }

// Slab test against a box, given the ray's reciprocal direction; returns the entry distance
// or INFINITY when the ray misses the box within (0, tmax).
inline float enter(const Box& b, const Vec3& origin, const Vec3& inv, float tmax) {
    float tx0 = (b.lo.x - origin.x) * inv.x, tx1 = (b.hi.x - origin.x) * inv.x;
    float ty0 = (b.lo.y - origin.y) * inv.y, ty1 = (b.hi.y - origin.y) * inv.y;
    float tz0 = (b.lo.z - origin.z) * inv.z, tz1 = (b.hi.z - origin.z) * inv.z;
    float near = fast_max(fast_max(fast_min(tx0, tx1), fast_min(ty0, ty1)), fast_min(tz0, tz1));
    float far = fast_min(fast_min(fast_max(tx0, tx1), fast_max(ty0, ty1)), fast_max(tz0, tz1));
    far = fast_min(far, tmax);
    return (near <= far && far > 0) ? near : INFINITY;
}

}  // namespace supervm::render
