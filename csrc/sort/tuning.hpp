// Tuning constants of the radix engine, measured on 2-core Zen 3 (512 KiB L2 per core).
#pragma once

#include <cstddef>

namespace supervm::sort {

// A bucket this large (data plus scratch of the same size) still sorts fast in L2.
constexpr std::size_t kBucketBytes = 512 * 1024;
// A bucket up to this large is still sorted by LSD passes directly, from L3: cheaper than
// partitioning it once more from memory (measured, 50M normal floats on 2 threads: float64
// ~510 -> ~445 ms, whose wide first digit leaves 3/4 of the items in buckets of 1-3x
// kBucketBytes). It is also the size the wide first digit aims its largest bucket at: the
// sweet spot between more open buckets in the first scatter and bigger buckets after it
// (float64 picks 18 bits, largest bucket 1.5 MB; float32 14 bits, 1.5 MB: ~360 -> ~275 ms).
constexpr std::size_t kDirectBucketBytes = 4 * kBucketBytes;
// Widest digit of a partition pass over memory: above 2**10 buckets plain scatter slows 2x.
constexpr unsigned kMsdMaxBits = 10;
// Bits of the first read's histogram: sign and exponent of a double (one bin per octave),
// and 32 KiB of counters per copy, still in L1/L2.
constexpr unsigned kCoarseBits = 12;
// Fine bins per bucket when equal-count buckets are built: a bucket overshoots by at most
// one fine bin, and fewer bins keep the scatter's lookup table in L1 (4 beat 8 on float32).
constexpr std::size_t kFineBinsPerBucket = 4;
// Build equal-count buckets when over 1/kSkewShare of the items would sit in huge buckets
// (see msd_pass): another read pass is cheaper than partitioning them again.
constexpr std::size_t kSkewShare = 8;
// Widest plain first digit tried on skewed keys instead of equal-count buckets (see
// msd_pass), and the most non-empty buckets it may open: past ~4K open buckets the scatter
// slows down more than smaller buckets save.
constexpr unsigned kWideMaxBits = 18;
constexpr std::size_t kWideMaxActive = 4096;
// Inputs this large choose a skewed first digit from a sample (sample_digit.hpp): the
// sample costs ~64K reads, a full read costs n.
constexpr std::size_t kSampleMinItems = std::size_t(1) << 22;
// Widest digit of an in-cache LSD pass (two passes then cover 2**20 buckets' worth).
constexpr unsigned kLsdMaxBits = 11;
// Sort this many bits beyond log2(bucket size) so equal-prefix runs are tiny.
constexpr int kExtraBits = 3;
// Runs up to this long are finished by insertion sort.
constexpr std::size_t kInsertionItems = 16;
// Each thread of a partition pass gets at least this many items.
constexpr std::size_t kMinItemsPerThread = 1 << 16;

}  // namespace supervm::sort
