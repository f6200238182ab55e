// Render entry points: one tile, a list of tiles over threads, and ray queries for tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "render/camera.hpp"
#include "render/scene.hpp"

namespace supervm::render {

struct Settings {
    int width = 0, height = 0;  // the whole image
    int spp = 1;                // samples per pixel
    int max_depth = 16;         // path vertices at most
    std::uint64_t seed = 0;
    std::uint64_t frame = 0;
    bool brute = false;         // intersect every primitive (to measure the BVH)
};

struct Tile {
    std::int32_t x0, y0, w, h;
};

// Render `tile` into `out` (rows of `row_stride` floats, RGB interleaved, the tile's first
// pixel at out[0]); return the number of rays traced. Each pixel depends only on the scene,
// camera, settings and its own coordinates.
std::uint64_t render_tile(const Scene& scene, const Camera& camera, const Settings& settings,
                          const Tile& tile, float* out, std::size_t row_stride);

// Render `count` tiles into the whole image `image` (height x width x 3), threads taking
// tiles from a shared counter; return the number of rays traced.
std::uint64_t render_tiles(const Scene& scene, const Camera& camera, const Settings& settings,
                           const Tile* tiles, std::size_t count, float* image, int threads);

// Nearest hit of each ray (t = INFINITY, id = -1 for a miss), through the BVH or by brute force.
void intersect_rays(const Scene& scene, const float* origins, const float* dirs, std::size_t n,
                    float* t_out, std::int64_t* id_out, bool brute);

}  // namespace supervm::render
