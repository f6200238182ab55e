# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# distutils: language = c++
"""Bindings of the C++ kernels: convert buffers and types, release the GIL, nothing else."""

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp cimport bool as cbool


cdef extern from "sort/sort.hpp" namespace "supervm::sort" nogil:
    void sort_copy[T](const T* inp, T* out, size_t n, int threads) except +
    void argsort_stable[T](const T* inp, int64_t* out, size_t n, int threads) except +

cdef extern from "reduce/reduce.hpp" namespace "supervm::reduce" nogil:
    cdef struct FloatSum:
        uint64_t count
        double hi
        double lo
    cdef struct IntSum:
        uint64_t count
        int64_t hi
        uint64_t lo
    cdef cppclass MinMax[T]:
        uint64_t count
        T min
        T max
        cbool nan
    cdef struct Moments:
        uint64_t count
        double mean
        double m2
    FloatSum sum_float[T](const T* a, size_t n, int threads) except +
    IntSum sum_int[T](const T* a, size_t n, int threads) except +
    MinMax[T] minmax[T](const T* a, size_t n, int threads) except +
    Moments moments[T](const T* a, size_t n, int threads) except +
    void histogram_uniform[T](const T* a, size_t n, const double* edges, size_t bins,
                              uint64_t* counts, int threads) except +

cdef extern from "common/parallel.hpp" namespace "supervm" nogil:
    int hardware_threads()

cdef extern from "sort/scratch_cache.hpp" namespace "supervm::sort" nogil:
    cdef cppclass ScratchCache:
        @staticmethod
        size_t held()
        @staticmethod
        void release()
        @staticmethod
        size_t limit()

cdef extern from "common/atomic.hpp" namespace "supervm" nogil:
    int64_t atomic_fetch_add "supervm::fetch_add"(int64_t* counter, int64_t amount)

ctypedef fused key_t:
    int32_t
    int64_t
    uint32_t
    uint64_t
    float
    double

ctypedef fused float_t:
    float
    double

ctypedef fused int_t:
    int32_t
    int64_t
    uint32_t
    uint64_t


def cpu_count():
    """Return the number of hardware threads the kernels use by default."""
    return hardware_threads()


cdef inline const key_t* _ptr(const key_t[::1] a) noexcept nogil:
    # A zero-length memoryview has no element 0; the kernels never read it when n == 0.
    return &a[0] if a.shape[0] > 0 else NULL


def sort_copy_into(const key_t[::1] a, key_t[::1] out, int threads):
    """Sort `a` into `out` (same length, no overlap)."""
    cdef size_t n = a.shape[0]
    with nogil:
        if n > 0:
            sort_copy(&a[0], &out[0], n, threads)


def argsort_into(const key_t[::1] a, int64_t[::1] out, int threads):
    """Write the stable argsort of `a` into `out`."""
    cdef size_t n = a.shape[0]
    with nogil:
        if n > 0:
            argsort_stable(&a[0], &out[0], n, threads)


def sum_float_state(const float_t[::1] a, int threads):
    """Return (count, hi, lo) of the compensated sum of `a`."""
    cdef FloatSum s
    with nogil:
        s = sum_float(_ptr(a), a.shape[0], threads)
    return s.count, s.hi, s.lo


def sum_int_state(const int_t[::1] a, int threads):
    """Return (count, exact total as a Python int) of `a`."""
    cdef IntSum s
    with nogil:
        s = sum_int(_ptr(a), a.shape[0], threads)
    return s.count, (int(s.hi) << 64) + int(s.lo)


def minmax_state(const key_t[::1] a, int threads):
    """Return (count, min, max, saw_nan) of `a`; min and max are None when empty."""
    cdef MinMax[key_t] m
    with nogil:
        m = minmax(_ptr(a), a.shape[0], threads)
    if m.count == 0:
        return 0, None, None, False
    return m.count, m.min, m.max, bool(m.nan)


def moments_state(const key_t[::1] a, int threads):
    """Return (count, mean, m2) of `a`, computed in double."""
    cdef Moments m
    with nogil:
        m = moments(_ptr(a), a.shape[0], threads)
    return m.count, m.mean, m.m2


def histogram_add(const key_t[::1] a, const double[::1] edges, uint64_t[::1] counts,
                  int threads):
    """Add the uniform-bin histogram of `a` over `edges` into `counts`."""
    cdef size_t bins = counts.shape[0]
    if edges.shape[0] != counts.shape[0] + 1:
        raise ValueError("edges must have one more element than counts")
    with nogil:
        histogram_uniform(_ptr(a), a.shape[0], &edges[0], bins, &counts[0], threads)


cdef extern from "reduce/reduce.hpp" namespace "supervm::reduce" nogil:
    FloatSum merge_float "supervm::reduce::merge"(const FloatSum& a, const FloatSum& b)
    Moments merge_moments_c "supervm::reduce::merge"(const Moments& a, const Moments& b)


def merge_float_sum(tuple a, tuple b):
    """Merge two (count, hi, lo) compensated sums exactly."""
    cdef FloatSum x, y, z
    x.count, x.hi, x.lo = a
    y.count, y.hi, y.lo = b
    z = merge_float(x, y)
    return z.count, z.hi, z.lo


def merge_moments(tuple a, tuple b):
    """Merge two (count, mean, m2) moment states (Chan et al.)."""
    cdef Moments x, y, z
    x.count, x.mean, x.m2 = a
    y.count, y.mean, y.m2 = b
    z = merge_moments_c(x, y)
    return z.count, z.mean, z.m2


cdef extern from "<memory>" namespace "std" nogil:
    cdef cppclass unique_ptr[T]:
        T* get()
        void reset(T*)
        T* release()

cdef extern from "render/render.hpp" namespace "supervm::render" nogil:
    cdef cppclass Scene:
        pass
    cdef cppclass Camera:
        pass
    cdef struct Settings:
        int width
        int height
        int spp
        int max_depth
        uint64_t seed
        uint64_t frame
        cbool brute
    cdef struct Tile:
        int32_t x0
        int32_t y0
        int32_t w
        int32_t h
    uint64_t render_tiles(const Scene& scene, const Camera& camera, const Settings& settings,
                          const Tile* tiles, size_t count, float* image, int threads) except +
    uint64_t render_tile(const Scene& scene, const Camera& camera, const Settings& settings,
                         const Tile& tile, float* out, size_t row_stride) except +
    void intersect_rays(const Scene& scene, const float* origins, const float* dirs, size_t n,
                        float* t_out, int64_t* id_out, cbool brute) except +

cdef extern from "render/arrays.hpp" namespace "supervm::render" nogil:
    unique_ptr[Scene] scene_from_arrays(
        const float* spheres, const int32_t* sphere_material, size_t nspheres,
        const float* triangles, const int32_t* triangle_material, size_t ntriangles,
        const float* planes, const int32_t* plane_material, size_t nplanes,
        const float* materials, size_t nmaterials, const float* environment) except +
    Camera camera_from_array(const float* values, int width, int height) except +


cdef inline const float* _fptr(const float[::1] a) noexcept nogil:
    return &a[0] if a.shape[0] > 0 else NULL


cdef inline const int32_t* _iptr(const int32_t[::1] a) noexcept nogil:
    return &a[0] if a.shape[0] > 0 else NULL


cdef class RenderScene:
    """A scene built in C++ (its BVH included) from flat float32/int32 arrays."""

    cdef unique_ptr[Scene] scene
    cdef public size_t primitive_count

    def __cinit__(self, const float[::1] spheres, const int32_t[::1] sphere_material,
                  const float[::1] triangles, const int32_t[::1] triangle_material,
                  const float[::1] planes, const int32_t[::1] plane_material,
                  const float[::1] materials, const float[::1] environment):
        cdef Py_ssize_t ns = sphere_material.shape[0], nt = triangle_material.shape[0]
        cdef Py_ssize_t np_ = plane_material.shape[0], nm = materials.shape[0] // 5
        if (spheres.shape[0] != 4 * ns or triangles.shape[0] != 9 * nt
                or planes.shape[0] != 6 * np_ or materials.shape[0] != 5 * nm
                or environment.shape[0] != 6):
            raise ValueError("scene arrays have inconsistent lengths")
        with nogil:
            self.scene = scene_from_arrays(
                _fptr(spheres), _iptr(sphere_material), ns,
                _fptr(triangles), _iptr(triangle_material), nt,
                _fptr(planes), _iptr(plane_material), np_,
                _fptr(materials), nm, &environment[0])
        self.primitive_count = ns + nt + np_


cdef Settings _settings(int width, int height, int spp, int max_depth, uint64_t seed,
                        uint64_t frame, cbool brute):
    cdef Settings s
    s.width, s.height, s.spp, s.max_depth = width, height, spp, max_depth
    s.seed, s.frame, s.brute = seed, frame, brute
    return s


def render_tiles_into(RenderScene scene, const float[::1] camera, const int32_t[:, ::1] tiles,
                      float[:, :, ::1] image, int spp, int max_depth, uint64_t seed,
                      uint64_t frame, int threads, cbool brute=False):
    """Render tiles (n x 4: x0, y0, w, h) into `image` (H x W x 3); return the rays traced."""
    cdef int height = image.shape[0], width = image.shape[1]
    cdef Settings s = _settings(width, height, spp, max_depth, seed, frame, brute)
    cdef Camera cam
    cdef uint64_t rays = 0
    if camera.shape[0] != 13 or tiles.shape[1] != 4 or image.shape[2] != 3:
        raise ValueError("camera must have 13 values, tiles 4 columns, image 3 channels")
    with nogil:
        cam = camera_from_array(&camera[0], width, height)
        if tiles.shape[0] > 0:
            rays = render_tiles(scene.scene.get()[0], cam, s, <const Tile*>&tiles[0, 0],
                                tiles.shape[0], &image[0, 0, 0], threads)
    return rays


def render_tile_into(RenderScene scene, const float[::1] camera, int width, int height,
                     int x0, int y0, float[:, :, ::1] out, int spp, int max_depth,
                     uint64_t seed, uint64_t frame):
    """Render the tile at (x0, y0) the size of `out` (h x w x 3) of a width x height image."""
    cdef Settings s = _settings(width, height, spp, max_depth, seed, frame, False)
    cdef Tile t
    cdef Camera cam
    cdef uint64_t rays = 0
    t.x0, t.y0, t.w, t.h = x0, y0, out.shape[1], out.shape[0]
    if camera.shape[0] != 13 or out.shape[2] != 3:
        raise ValueError("camera must have 13 values, out 3 channels")
    with nogil:
        cam = camera_from_array(&camera[0], width, height)
        if t.w > 0 and t.h > 0:
            rays = render_tile(scene.scene.get()[0], cam, s, t, &out[0, 0, 0], 3 * t.w)
    return rays


def intersect_into(RenderScene scene, const float[:, ::1] origins, const float[:, ::1] dirs,
                   float[::1] t_out, int64_t[::1] id_out, cbool brute):
    """Write each ray's nearest hit distance and primitive id (-1: miss)."""
    cdef Py_ssize_t n = origins.shape[0]
    if (dirs.shape[0] != n or t_out.shape[0] != n or id_out.shape[0] != n
            or origins.shape[1] != 3 or dirs.shape[1] != 3):
        raise ValueError("origins and dirs must be n x 3, outputs n long")
    with nogil:
        if n > 0:
            intersect_rays(scene.scene.get()[0], &origins[0, 0], &dirs[0, 0], n,
                           &t_out[0], &id_out[0], brute)


def fetch_add(int64_t[::1] counters, Py_ssize_t slot, int64_t amount):
    """Add `amount` to counters[slot] atomically (the page may be shared); return the old value."""
    if slot < 0 or slot >= counters.shape[0]:
        raise IndexError(f"slot {slot} out of range for {counters.shape[0]} counters")
    cdef int64_t before
    with nogil:
        before = atomic_fetch_add(&counters[slot], amount)
    return before


def scratch_held():
    """Return the bytes of the one large sort scratch buffer kept between calls (0: none)."""
    return ScratchCache.held()


def scratch_limit():
    """Return the largest scratch buffer kept between calls (1/16 of physical memory)."""
    return ScratchCache.limit()


def release_scratch():
    """Free the sort scratch buffer kept between calls."""
    with nogil:
        ScratchCache.release()
