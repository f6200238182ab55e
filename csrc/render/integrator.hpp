// Unidirectional path tracing: follow one path, add emission and environment light it meets.
#pragma once

#include <cstdint>

#include "render/material.hpp"
#include "render/rng.hpp"
#include "render/scene.hpp"

namespace supervm::render {

// Bounces taken at full weight before Russian roulette may end a path.
constexpr int kRouletteStart = 3;
// Survival probability cap: even a white path ends sometimes, keeping path lengths finite.
constexpr float kMaxSurvival = 0.95f;

// Radiance along `ray`; adds the number of rays traced to `rays`.
inline Vec3 radiance(const Scene& scene, Ray ray, Rng& rng, int max_depth, bool brute,
                     std::uint64_t& rays) {
    Vec3 sum, throughput{1.0f, 1.0f, 1.0f};
    for (int depth = 0; depth < max_depth; ++depth) {
        ++rays;
        SurfaceHit hit;
        if (!scene.intersect(ray, hit, brute)) {
            sum += throughput * scene.environment.radiance(ray.dir);
            break;
        }
        const Material& m = scene.materials[static_cast<std::size_t>(hit.material)];
        if (m.kind == MaterialKind::Emissive) {
            sum += throughput * m.color;
            break;
        }
        Vec3 attenuation;
        Ray next;
        if (!scatter(m, ray, hit, rng, attenuation, next)) break;
        throughput *= attenuation;
        if (depth + 1 >= kRouletteStart) {
            // Continue with probability p and divide by p: unbiased, and dim paths end early.
            float p = std::fmin(kMaxSurvival, max_component(throughput));
            if (!(rng.uniform() < p)) break;
            throughput *= 1.0f / p;
        }
        ray = next;
    }
    return sum;
}

}  // namespace supervm::render
