// How each material scatters a ray: a new direction and the throughput it keeps.
//
// Every material returns at most what it receives: attenuation components lie in [0, 1]
// for albedos in [0, 1], and a dielectric chooses reflection or refraction (never both),
// weighted by the Fresnel term, with throughput 1.
#pragma once

#include <cmath>

#include "render/rng.hpp"
#include "render/scene.hpp"
#include "render/vec.hpp"

namespace supervm::render {

// An orthonormal basis around unit n (Duff et al. 2017, branchless).
inline void basis(const Vec3& n, Vec3& b1, Vec3& b2) {
    float sign = std::copysign(1.0f, n.z);
    float a = -1.0f / (sign + n.z);
    float b = n.x * n.y * a;
    b1 = {1.0f + sign * n.x * n.x * a, sign * b, -sign * n.x};
    b2 = {b, sign + n.y * n.y * a, -n.y};
}

// Cosine-weighted direction about n: pdf cos/pi cancels the Lambertian BRDF's cos/pi.
inline Vec3 cosine_direction(const Vec3& n, Rng& rng) {
    float u1 = rng.uniform(), u2 = rng.uniform();
    float r = std::sqrt(u1), phi = 6.2831853f * u2;
    Vec3 b1, b2;
    basis(n, b1, b2);
    return normalize(b1 * (r * std::cos(phi)) + b2 * (r * std::sin(phi)) +
                     n * std::sqrt(std::fmax(0.0f, 1.0f - u1)));
}

// A uniform point in the unit ball.
inline Vec3 in_unit_ball(Rng& rng) {
    float z = 2.0f * rng.uniform() - 1.0f;
    float phi = 6.2831853f * rng.uniform();
    float r = std::cbrt(rng.uniform());
    float s = std::sqrt(std::fmax(0.0f, 1.0f - z * z));
    return Vec3{s * std::cos(phi), s * std::sin(phi), z} * r;
}

inline Vec3 reflect(const Vec3& d, const Vec3& n) { return d - n * (2.0f * dot(d, n)); }

// Schlick's approximation of the Fresnel reflectance.
inline float schlick(float cosine, float eta) {
    float r0 = (1.0f - eta) / (1.0f + eta);
    r0 *= r0;
    float m = 1.0f - cosine;
    return r0 + (1.0f - r0) * m * m * m * m * m;
}

// Scatter `ray` at `hit`; false when the path is absorbed (or the material only emits).
inline bool scatter(const Material& m, const Ray& ray, const SurfaceHit& hit, Rng& rng,
                    Vec3& attenuation, Ray& next) {
    bool front = dot(ray.dir, hit.normal) < 0;
    Vec3 n = front ? hit.normal : -hit.normal;  // faces the incoming ray
    next.origin = hit.point;
    switch (m.kind) {
        case MaterialKind::Lambertian:
            next.dir = cosine_direction(n, rng);
            attenuation = m.color;
            return true;
        case MaterialKind::Metal: {
            Vec3 d = reflect(ray.dir, n) + in_unit_ball(rng) * m.param;
            float len = length(d);
            if (!(len > 0)) return false;
            next.dir = d / len;
            attenuation = m.color;
            return dot(next.dir, n) > 0;  // fuzz that points into the surface is absorbed
        }
        case MaterialKind::Dielectric: {
            float eta = front ? 1.0f / m.param : m.param;
            float cos_i = std::fmin(-dot(ray.dir, n), 1.0f);
            float sin2_t = eta * eta * (1.0f - cos_i * cos_i);
            if (sin2_t >= 1.0f || schlick(cos_i, eta) > rng.uniform()) {
                next.dir = reflect(ray.dir, n);
            } else {
                float cos_t = std::sqrt(1.0f - sin2_t);
                next.dir = normalize(ray.dir * eta + n * (eta * cos_i - cos_t));
            }
            attenuation = Vec3{1.0f, 1.0f, 1.0f};
            return true;
        }
        case MaterialKind::Emissive:
            return false;
    }
    return false;
}

}  // namespace supervm::render
