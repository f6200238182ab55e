// Tiles to pixels: per-pixel sample loops and dynamic tile scheduling over threads.
#include "render/render.hpp"

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/parallel.hpp"
#include "render/integrator.hpp"
#include "render/rng.hpp"

namespace supervm::render {

std::uint64_t render_tile(const Scene& scene, const Camera& camera, const Settings& settings,
                          const Tile& tile, float* out, std::size_t row_stride) {
    if (tile.x0 < 0 || tile.y0 < 0 || tile.w < 0 || tile.h < 0 ||
        tile.x0 + tile.w > settings.width || tile.y0 + tile.h > settings.height)
        throw std::invalid_argument("tile outside the image");
    std::uint64_t rays = 0;
    float inv_w = 1.0f / static_cast<float>(settings.width);
    float inv_h = 1.0f / static_cast<float>(settings.height);
    float inv_spp = 1.0f / static_cast<float>(settings.spp);
    for (int y = tile.y0; y < tile.y0 + tile.h; ++y) {
        float* row = out + static_cast<std::size_t>(y - tile.y0) * row_stride;
        for (int x = tile.x0; x < tile.x0 + tile.w; ++x) {
            auto pixel = static_cast<std::uint64_t>(y) * static_cast<std::uint64_t>(settings.width) +
                         static_cast<std::uint64_t>(x);
            Vec3 sum;
            for (int s = 0; s < settings.spp; ++s) {
                Rng rng(settings.seed, settings.frame, pixel, static_cast<std::uint64_t>(s));
                // Always draw the lens sample, so pinhole and thin lens share the stream.
                float jx = rng.uniform(), jy = rng.uniform();
                float la = rng.uniform(), lb = rng.uniform();
                float u = (static_cast<float>(x) + jx) * inv_w;
                float v = 1.0f - (static_cast<float>(y) + jy) * inv_h;  // row 0 is the top
                Vec3 value = radiance(scene, camera.ray(u, v, la, lb), rng, settings.max_depth,
                                      settings.brute, rays);
                // A rare NaN or infinity (a degenerate hit) would spoil the pixel: drop it.
                if (finite(value)) sum += value;
            }
            float* px = row + static_cast<std::size_t>(x - tile.x0) * 3;
            px[0] = sum.x * inv_spp;
            px[1] = sum.y * inv_spp;
            px[2] = sum.z * inv_spp;
        }
    }
    return rays;
}

std::uint64_t render_tiles(const Scene& scene, const Camera& camera, const Settings& settings,
                           const Tile* tiles, std::size_t count, float* image, int threads) {
    int nthreads = static_cast<int>(std::min<std::size_t>(
        static_cast<std::size_t>(supervm::resolve_threads(threads)), std::max<std::size_t>(count, 1)));
    std::atomic<std::size_t> next{0};
    std::vector<std::uint64_t> rays(static_cast<std::size_t>(nthreads), 0);
    auto row_stride = static_cast<std::size_t>(settings.width) * 3;
    supervm::parallel_for(nthreads, [&](int tid) {
        // Tiles vary in cost (sky vs. mesh), so threads take the next one when free.
        for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
            const Tile& t = tiles[i];
            float* corner = image + static_cast<std::size_t>(t.y0) * row_stride +
                            static_cast<std::size_t>(t.x0) * 3;
            rays[static_cast<std::size_t>(tid)] +=
                render_tile(scene, camera, settings, t, corner, row_stride);
        }
    });
    std::uint64_t total = 0;
    for (auto r : rays) total += r;
    return total;
}

void intersect_rays(const Scene& scene, const float* origins, const float* dirs, std::size_t n,
                    float* t_out, std::int64_t* id_out, bool brute) {
    for (std::size_t i = 0; i < n; ++i) {
        Ray ray{{origins[3 * i], origins[3 * i + 1], origins[3 * i + 2]},
                normalize(Vec3{dirs[3 * i], dirs[3 * i + 1], dirs[3 * i + 2]})};
        SurfaceHit hit;
        if (scene.intersect(ray, hit, brute)) {
            t_out[i] = hit.t;
            id_out[i] = hit.id;
        } else {
            t_out[i] = INFINITY;
            id_out[i] = -1;
        }
    }
}

}  // namespace supervm::render
