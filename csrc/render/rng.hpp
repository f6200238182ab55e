// Counter-based random streams: one independent stream per (seed, frame, pixel, sample).
//
// Nothing in a stream depends on which thread, tile or rank traces the sample, which is
// what makes an image bit-identical however the work is split.
#pragma once

#include <cstdint>

namespace supervm::render {

// The splitmix64 finaliser: a bijective 64-bit mix with full avalanche.
inline std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

class Rng {
  public:
    Rng(std::uint64_t seed, std::uint64_t frame, std::uint64_t pixel, std::uint64_t sample) {
        // Chain the mix so that nearby counters land far apart in the state space.
        std::uint64_t h = mix64(seed + 0x9E3779B97F4A7C15ull);
        h = mix64(h ^ (frame + 0x632BE59BD9B4E019ull));
        h = mix64(h ^ (pixel + 0x85157AF5ull));
        state_ = mix64(h ^ sample);
    }

    std::uint64_t next() {
        state_ += 0x9E3779B97F4A7C15ull;
        return mix64(state_);
    }

    // Uniform in [0, 1): the top 24 bits, so the value is exact in float and never 1.
    float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

  private:
    std::uint64_t state_;
};

}  // namespace supervm::render
