// Binned surface-area-heuristic build and ordered traversal of the BVH.
#include "render/bvh.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace supervm::render {
namespace {

constexpr int kBins = 16;
constexpr std::uint32_t kMaxLeaf = 4;
constexpr int kMaxDepth = 200;  // below kStackSize
// Relative costs of one node visit and one primitive test in the SAH.
constexpr float kTraversalCost = 1.0f;
constexpr float kIntersectCost = 1.0f;

struct Bin {
    Box box;
    std::uint32_t count = 0;
};

}  // namespace

void Bvh::build(const Primitives& prims) {
    std::uint32_t n = prims.size();
    nodes_.clear();
    order_.resize(n);
    std::vector<Box> boxes(n);
    std::vector<Vec3> centers(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        order_[i] = i;
        boxes[i] = prims.bounds_of(i);
        centers[i] = boxes[i].center();
    }
    if (n == 0) return;
    nodes_.reserve(2 * static_cast<std::size_t>(n) / kMaxLeaf + 1);
    build_node(prims, boxes, centers, 0, n, 0);
}

std::uint32_t Bvh::build_node(const Primitives& prims, std::vector<Box>& boxes,
                              std::vector<Vec3>& centers, std::uint32_t first,
                              std::uint32_t count, int depth) {
    auto index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
    Box box, centroid_box;
    for (std::uint32_t i = first; i < first + count; ++i) {
        box.grow(boxes[order_[i]]);
        centroid_box.grow(centers[order_[i]]);
    }
    nodes_[index].box = box;
    auto make_leaf = [&] {
        nodes_[index].right_or_first = first;
        nodes_[index].count = static_cast<std::uint16_t>(count);
        return index;
    };
    // The traversal stack holds at most one node per level: cap the depth to fit it.
    if (count <= 1 || (depth >= kMaxDepth && count <= 0xFFFF)) return make_leaf();

    // Pick the axis and bin boundary with the lowest SAH cost over the centroid bounds.
    float best_cost = INFINITY;
    int best_axis = -1, best_split = 0;
    Vec3 extent = centroid_box.hi - centroid_box.lo;
    for (int axis = 0; axis < 3; ++axis) {
        float lo = centroid_box.lo[axis], width = extent[axis];
        if (!(width > 0)) continue;
        float scale = kBins / width;
        std::array<Bin, kBins> bins{};
        for (std::uint32_t i = first; i < first + count; ++i) {
            int b = std::min(kBins - 1, static_cast<int>((centers[order_[i]][axis] - lo) * scale));
            bins[b].count++;
            bins[b].box.grow(boxes[order_[i]]);
        }
        // Sweep from the right to know the area and count of every right side.
        std::array<float, kBins> right_area{};
        std::array<std::uint32_t, kBins> right_count{};
        Box acc;
        std::uint32_t acc_n = 0;
        for (int b = kBins - 1; b > 0; --b) {
            acc.grow(bins[b].box);
            acc_n += bins[b].count;
            right_area[b] = acc.area();
            right_count[b] = acc_n;
        }
        Box left;
        std::uint32_t left_n = 0;
        for (int split = 1; split < kBins; ++split) {
            left.grow(bins[split - 1].box);
            left_n += bins[split - 1].count;
            if (left_n == 0 || right_count[split] == 0) continue;
            float cost = left.area() * left_n + right_area[split] * right_count[split];
            if (cost < best_cost) {
                best_cost = cost;
                best_axis = axis;
                best_split = split;
            }
        }
    }
    float leaf_cost = kIntersectCost * count;
    float split_cost = kTraversalCost + kIntersectCost * best_cost / std::max(box.area(), 1e-30f);
    bool fits_leaf = count <= 0xFFFF;  // a leaf's count is 16 bits
    if (best_axis < 0 && fits_leaf) return make_leaf();
    if (best_axis >= 0 && count <= kMaxLeaf && split_cost >= leaf_cost) return make_leaf();

    std::uint32_t mid;
    int axis = best_axis;
    if (best_axis >= 0) {
        float lo = centroid_box.lo[axis], scale = kBins / extent[axis];
        auto* begin = order_.data() + first;
        auto* split = std::partition(begin, begin + count, [&](std::uint32_t id) {
            return std::min(kBins - 1, static_cast<int>((centers[id][axis] - lo) * scale)) <
                   best_split;
        });
        mid = static_cast<std::uint32_t>(split - order_.data());
    } else {
        // Every centroid coincides: halve the list so leaves stay small.
        axis = 0;
        mid = first + count / 2;
    }
    nodes_[index].axis = static_cast<std::uint16_t>(axis);
    build_node(prims, boxes, centers, first, mid - first, depth + 1);
    std::uint32_t right = build_node(prims, boxes, centers, mid, first + count - mid, depth + 1);
    nodes_[index].right_or_first = right;
    nodes_[index].count = 0;
    return index;
}

NearestHit Bvh::nearest(const Primitives& prims, const Ray& ray, float tmin, float tmax) const {
    NearestHit best{tmax, kNoHit};
    if (nodes_.empty()) return best;
    Vec3 inv{1.0f / ray.dir.x, 1.0f / ray.dir.y, 1.0f / ray.dir.z};
    bool negative[3] = {ray.dir.x < 0, ray.dir.y < 0, ray.dir.z < 0};
    std::uint32_t stack[kStackSize];  // build_node caps the depth below this
    int top = 0;
    std::uint32_t node = 0;
    if (enter(nodes_[0].box, ray.origin, inv, best.t) == INFINITY) return best;
    for (;;) {
        const BvhNode& n = nodes_[node];
        if (n.count > 0) {
            for (std::uint32_t i = n.right_or_first; i < n.right_or_first + n.count; ++i) {
                std::uint32_t id = order_[i];
                float t = prims.intersect_one(id, ray, tmin, best.t);
                if (t > 0) best = {t, id};
            }
        } else {
            // Visit the child on the ray's near side of the split axis first.
            std::uint32_t first = node + 1, second = n.right_or_first;
            if (negative[n.axis]) std::swap(first, second);
            float t_first = enter(nodes_[first].box, ray.origin, inv, best.t);
            float t_second = enter(nodes_[second].box, ray.origin, inv, best.t);
            if (t_first != INFINITY) {
                if (t_second != INFINITY) stack[top++] = second;
                node = first;
                continue;
            }
            if (t_second != INFINITY) {
                node = second;
                continue;
            }
        }
        // Pop until a node still nearer than the best hit so far.
        bool found = false;
        while (top > 0) {
            node = stack[--top];
            if (enter(nodes_[node].box, ray.origin, inv, best.t) != INFINITY) {
                found = true;
                break;
            }
        }
        if (!found) return best;
    }
}

NearestHit nearest_brute(const Primitives& prims, const Ray& ray, float tmin, float tmax) {
    NearestHit best{tmax, kNoHit};
    for (std::uint32_t id = 0; id < prims.size(); ++id) {
        float t = prims.intersect_one(id, ray, tmin, best.t);
        if (t > 0) best = {t, id};
    }
    return best;
}

}  // namespace supervm::render
