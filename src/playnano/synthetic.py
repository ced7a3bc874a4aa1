"""A realistic synthetic HS-AFM video, generated so demos and tests need no download.

The frames show what makes real high-speed AFM data hard to read before processing:
a tilted background whose tilt and offset drift from frame to frame, the whole scene
drifting laterally, a few particles 2-6 nm high diffusing across the surface, scan-line
offsets (each row of each frame shifted by its own amount, as the feedback settles), and
white noise.
"""

from __future__ import annotations

import numpy as np

from playnano.afm_stack import AFMImageStack


def synthetic_hsafm(
    n_frames: int = 40,
    size_px: int = 128,
    pixel_size_nm: float = 1.0,
    frame_interval_s: float = 0.5,
    n_particles: int = 6,
    seed: int = 0,
) -> AFMImageStack:
    """Generate a synthetic HS-AFM video as an :class:`AFMImageStack`.

    Parameters
    ----------
    n_frames : int
        Number of frames.
    size_px : int
        Frames are ``size_px`` x ``size_px`` pixels.
    pixel_size_nm : float
        Pixel size in nanometres.
    frame_interval_s : float
        Time between frame starts in seconds.
    n_particles : int
        Number of diffusing particles.
    seed : int
        Seed of the random generator; the same seed gives the same video.

    Returns
    -------
    AFMImageStack
        Heights in nanometres (float64), channel ``height_trace``, with timestamps.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size_px, 0:size_px].astype(np.float64)
    pos = rng.uniform(0.15 * size_px, 0.85 * size_px, size=(n_particles, 2))
    heights = rng.uniform(2.0, 6.0, n_particles)
    radii_nm = rng.uniform(3.0, 8.0, n_particles)
    drift = np.zeros(2)
    tilt = np.array([0.04, -0.025])  # nm per pixel
    frames = np.empty((n_frames, size_px, size_px))
    for i in range(n_frames):
        drift += rng.normal([0.3, 0.15], 0.1)  # px per frame, mostly one way
        tilt += rng.normal(0.0, 0.002, 2)
        pos += rng.normal(0.0, 0.8, pos.shape)  # diffusion, px per frame
        pos %= size_px
        surface = tilt[0] * xx + tilt[1] * yy + rng.normal(0.0, 0.5)
        for (py, px), h, r_nm in zip(pos + drift, heights, radii_nm, strict=True):
            r = r_nm / pixel_size_nm
            dy = (yy - py + size_px / 2) % size_px - size_px / 2
            dx = (xx - px + size_px / 2) % size_px - size_px / 2
            surface += h * np.exp(-(dx**2 + dy**2) / (2 * r**2))
        surface += rng.normal(0.0, 0.3, (size_px, 1))  # scan-line offsets
        surface += rng.normal(0.0, 0.08, (size_px, size_px))
        frames[i] = surface
    line_rate = size_px / frame_interval_s
    meta = [
        {
            "timestamp": i * frame_interval_s,
            "frame_pixel_size_nm": pixel_size_nm,
            "frame_duration_s": frame_interval_s,
            "start_epoch_ms": None,
            "scan_direction": "up" if i % 2 == 0 else "down",
            "line_rate": line_rate,
        }
        for i in range(n_frames)
    ]
    stack = AFMImageStack(frames, pixel_size_nm, "height_trace", None, meta)
    stack.provenance["source"] = {
        "file": None,
        "reader": "synthetic",
        "generator": "playnano.synthetic.synthetic_hsafm",
        "params": {
            "n_frames": n_frames,
            "size_px": size_px,
            "pixel_size_nm": pixel_size_nm,
            "frame_interval_s": frame_interval_s,
            "n_particles": n_particles,
            "seed": seed,
        },
    }
    return stack
