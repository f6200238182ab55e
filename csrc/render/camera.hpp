// Pinhole and thin-lens cameras: a ray through image position (s, t) in [0, 1]^2.
#pragma once

#include <cmath>

#include "render/vec.hpp"

namespace supervm::render {

// What a caller describes; the view basis is derived once per frame by make_camera.
struct CameraSpec {
    Vec3 eye, look_at, up;
    float vfov_degrees = 40;
    float aperture = 0;        // lens diameter; thin lens only
    float focus_distance = 1;  // distance to the plane in focus; thin lens only
    bool thin_lens = false;
};

struct Camera {
    Vec3 origin, lower_left, horizontal, vertical, u, v;
    float lens_radius = 0;
    bool thin_lens = false;

    // (s, t): position on the image, t = 0 at the bottom; (a, b): lens sample in [0, 1)^2.
    Ray ray(float s, float t, float a, float b) const {
        Vec3 target = lower_left + horizontal * s + vertical * t;
        if (!thin_lens) return {origin, normalize(target - origin)};
        // Concentric-free polar disk sample: uniform over the lens area.
        float r = lens_radius * std::sqrt(a);
        float phi = 6.2831853f * b;
        Vec3 offset = u * (r * std::cos(phi)) + v * (r * std::sin(phi));
        Vec3 from = origin + offset;
        return {from, normalize(target - from)};
    }
};

// The caller has checked that eye != look_at and up is not parallel to the view.
inline Camera make_camera(const CameraSpec& spec, float aspect) {
    float half_height = std::tan(spec.vfov_degrees * 3.14159265f / 360.0f);
    Vec3 w = normalize(spec.eye - spec.look_at);
    Vec3 u = normalize(cross(spec.up, w));
    Vec3 v = cross(w, u);
    // A pinhole's image plane sits at distance 1; a thin lens focuses on its focus plane.
    float plane = spec.thin_lens ? spec.focus_distance : 1.0f;
    Camera cam;
    cam.origin = spec.eye;
    cam.horizontal = u * (2.0f * aspect * half_height * plane);
    cam.vertical = v * (2.0f * half_height * plane);
    cam.lower_left = spec.eye - cam.horizontal * 0.5f - cam.vertical * 0.5f - w * plane;
    cam.u = u;
    cam.v = v;
    cam.lens_radius = spec.thin_lens ? spec.aperture * 0.5f : 0.0f;
    cam.thin_lens = spec.thin_lens;
    return cam;
}

}  // namespace supervm::render
