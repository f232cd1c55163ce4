"""Checks for tutorials/11_phase_retrieval.

The transfer function, the Gerchberg-Saxton step and loop, and the phase error are compared with the package's
implementation (:mod:`ml4em.phase`) on cases that vary shape, sampling, energy, defocus, aberration and seed, with
hints for the typical slips (sign convention, non-relativistic wavelength, swapped axes, a missing conjugate, a
sum for a mean, an arithmetic mean of angles). Each check refuses the package's own implementation of its exercise
(see :mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import phase as ref
from ._core import CheckFailure, check_array, check_callable, check_scalar, check_shape, check_true
from ._core import call_student as _call
from ._own import answers

TUTORIAL = "11_phase_retrieval"

__all__ = ["check_transfer", "check_defocus_read", "check_first_zero_defocus", "check_gs_step",
           "check_gerchberg_saxton", "check_phase_error"]


def _complex(name, value, shape, hint=None):
    if value is None:
        raise CheckFailure(f"`{name}` is None. Did you forget a `return` statement?")
    arr = np.asarray(value)
    check_shape(name, arr, shape, hint=hint)
    arr = arr.astype(complex)
    check_true(np.all(np.isfinite(arr)), f"`{name}` has non-finite values (NaN or inf).",
               hint="a square root of a negative intensity, or a division by zero?")
    return arr


def _close(a, b, tol):
    return np.allclose(a, b, rtol=0, atol=tol)


@answers(TUTORIAL, "transfer", "ml4em.phase.transfer_function", "ml4em.phase.wavelength",
         "ml4em.phase.aberration_phase", "ml4em.phase.spatial_frequencies")
def check_transfer(transfer, *, shape=(12, 10), sampling=0.25, beam_energy=300.0, defocus=150.0, cs=1e5,
                   aperture=30.0):
    """``transfer(shape, sampling, beam_energy, defocus, cs, aperture)``: ``exp(-i chi)`` inside the aperture."""
    check_callable(transfer, "transfer")
    cases = [(shape, sampling, beam_energy, defocus, cs, aperture),
             (shape, sampling, beam_energy, -defocus, cs, aperture),   # overfocus
             (shape[::-1], sampling * 1.5, beam_energy, 2 * defocus, 0.0, aperture)]
    for shp, d, energy, df, c, ap in cases:
        name = f"transfer({shp}, {d}, {energy}, {df}, {c:g}, {ap})"
        got = _complex(name, _call("transfer", transfer, shp, d, energy, df, c, ap), tuple(shp),
                       hint="rows along axis 0: ky = np.fft.fftfreq(rows, sampling)[:, None], columns along axis 1 "
                            "(np.meshgrid without indexing='ij' swaps them).")
        want = ref.transfer_function(shp, d, beam_energy=energy, defocus=df, cs=c, aperture=ap)
        if _close(got, want, 1e-8):
            continue
        lam_classical = 12.398419843320026 / np.sqrt(2 * 510.99895 * energy)
        ky, kx = ref.spatial_frequencies(shp, d)
        k = np.sqrt(kx**2 + ky**2)
        chi_classical = np.pi * lam_classical * k**2 * (0.5 * c * lam_classical**2 * k**2 - df)
        hints = [(np.conj(want), "the sign: H = exp(-1j * chi), not exp(+1j * chi)."),
                 (ref.transfer_function(shp, d, beam_energy=energy, defocus=-df, cs=c, aperture=ap),
                  "the sign of the defocus: chi = pi lambda k^2 (cs lambda^2 k^2 / 2 - defocus), underfocus > 0."),
                 (np.where(lam_classical * k <= ap * 1e-3, np.exp(-1j * chi_classical), 0),
                  "the wavelength must be relativistic: lambda = h c / sqrt(E (E + 2 m0 c^2)).")]
        hint = next((h for alt, h in hints if _close(got, alt, 1e-8)), None)
        if hint is None:
            check_true(abs(got[0, 0] - 1) < 1e-8, f"`{name}`[0, 0] should be 1 (k = 0: no phase shift, inside the "
                       f"aperture); got {complex(got[0, 0]):.4g}.",
                       hint="the zero frequency of fft2 is at index [0, 0].")
            inside = np.abs(want) > 0
            check_true(np.all(np.abs(got[~inside]) < 1e-8) and np.all(np.abs(np.abs(got[inside]) - 1) < 1e-8),
                       f"`{name}` should be 0 outside the aperture and have modulus 1 inside; it does not at "
                       f"{int(np.sum(np.abs(np.abs(got) - inside) > 1e-8))} frequencies.",
                       hint="the aperture passes wavelength * k <= aperture * 1e-3 (aperture in mrad).")
        raise CheckFailure(f"`{name}` is not exp(-i chi(k)) on the fft2 grid (largest difference "
                           f"{np.abs(got - want).max():.3g}).\nHint: " + (hint or "chi(k) = pi lambda k^2 "
                           "(cs lambda^2 k^2 / 2 - defocus) with k = sqrt(kx^2 + ky^2) from np.fft.fftfreq."))


def _random_case(shape, n_planes, seed):
    rng = np.random.default_rng(seed)
    wave = np.exp(1j * 0.3 * rng.standard_normal(shape)) * (1 + 0.1 * rng.standard_normal(shape))
    amplitudes = 1 + 0.2 * rng.random((n_planes, *shape))
    transfers = np.stack([ref.transfer_function(shape, 0.25, defocus=f, cs=1e5, aperture=40.0)
                          for f in rng.uniform(50, 400, n_planes)])
    return wave, amplitudes, transfers


@answers(TUTORIAL, "gs_step", "ml4em.phase.gs_step", "ml4em.phase.gerchberg_saxton")
def check_gs_step(gs_step, *, shape=(16, 12), n_planes=2, seed=0):
    """``gs_step(wave, amplitudes, transfers)``: one Gerchberg-Saxton iteration over ``n_planes`` images."""
    check_callable(gs_step, "gs_step")
    for planes, shp, s in ((n_planes, shape, seed), (1, shape[::-1], seed + 1), (n_planes + 1, shape, seed + 2)):
        wave, amplitudes, transfers = _random_case(shp, planes, s)
        copies = wave.copy(), amplitudes.copy(), transfers.copy()
        name = f"gs_step(wave {shp}, amplitudes {amplitudes.shape}, transfers)"
        got = _complex(name, _call("gs_step", gs_step, wave, amplitudes, transfers), shp)
        check_true(all(np.array_equal(a, b) for a, b in zip((wave, amplitudes, transfers), copies)),
                   "`gs_step` changed its inputs in place; compute new arrays.")
        want = ref.gs_step(wave, amplitudes, transfers)
        if _close(got, want, 1e-9):
            continue
        images = np.fft.ifft2(np.fft.fft2(wave)[None] * transfers)
        fixed = amplitudes * np.exp(1j * np.angle(images))
        hints = [(np.fft.ifft2(np.fft.fft2(fixed) * np.conj(transfers)).sum(axis=0),
                  "average the back-propagated waves of the planes (mean over axis 0), do not add them."),
                 (np.fft.ifft2(np.fft.fft2(fixed) * transfers).mean(axis=0),
                  "propagate back with the complex conjugate of the transfer function, np.conj(transfers)."),
                 (np.fft.ifft2(np.fft.fft2(amplitudes * images / np.maximum(np.abs(images), 1e-300))
                               / np.where(transfers == 0, 1, transfers)).mean(axis=0),
                  "multiply by np.conj(transfers) to go back: outside the aperture the transfer is 0."),
                 (np.fft.ifft2(np.fft.fft2(amplitudes**2 * np.exp(1j * np.angle(images)))
                               * np.conj(transfers)).mean(axis=0),
                  "the amplitudes are already square roots of the intensities: use them as they are."),
                 (np.fft.ifft2(np.fft.fft2(images) * np.conj(transfers)).mean(axis=0),
                  "replace the amplitude of each image wave by the measured one: amplitudes * exp(1j * angle).")]
        hint = next((h for alt, h in hints if _close(got, alt, 1e-9)), None)
        raise CheckFailure(f"`{name}` differs from one Gerchberg-Saxton iteration (largest difference "
                           f"{np.abs(got - want).max():.3g}).\nHint: " + (hint or "propagate to each plane "
                           "(fft2, times transfers[j], ifft2), keep the phase with the measured amplitude, propagate "
                           "back (times np.conj(transfers[j])) and average over the planes."))


@answers(TUTORIAL, "gerchberg_saxton", "ml4em.phase.gerchberg_saxton")
def check_gerchberg_saxton(gerchberg_saxton, *, shape=(24, 20), defoci=(100.0, 300.0), n_iter=7, seed=0):
    """``gerchberg_saxton(intensities, transfers, n_iter)``: ``n_iter`` iterations from a plane wave."""
    check_callable(gerchberg_saxton, "gerchberg_saxton")
    rng = np.random.default_rng(seed)
    phase = ref.make_phase_objects(1, shape=shape, sampling=0.25, seed=rng)[0]
    transfers = np.stack([ref.transfer_function(shape, 0.25, defocus=f, cs=1e5, aperture=30.0) for f in defoci])
    intensities = ref.image_intensity(np.exp(1j * phase), transfers)
    noisy = intensities + 0.05 * rng.standard_normal(intensities.shape)
    noisy[0, 0, :3] = -0.02  # noise can make a few intensities negative
    for images, iters in ((noisy, n_iter), (noisy, 1), (noisy, 0), (intensities[:1], 3)):
        name = f"gerchberg_saxton(intensities {images.shape}, transfers, {iters})"
        copies = images.copy()
        got = _complex(name, _call("gerchberg_saxton", gerchberg_saxton, images, transfers[:len(images)], iters),
                       shape)
        check_true(np.array_equal(images, copies), "`gerchberg_saxton` changed the intensities in place.")
        want = ref.gerchberg_saxton(images, transfers[:len(images)], n_iter=iters)
        if _close(got, want, 1e-8):
            continue
        if iters == 0:
            raise CheckFailure(f"`{name}` should return the starting plane wave, np.ones(shape, complex), after 0 "
                               "iterations.")
        hint = "start from np.ones(shape, complex), amplitudes = np.sqrt(np.clip(intensities, 0, None)), then " \
               "apply gs_step n_iter times, each time to the result of the last."
        for other in (iters - 1, iters + 1):
            if other >= 0 and _close(got, ref.gerchberg_saxton(images, transfers[:len(images)], n_iter=other), 1e-8):
                hint = f"that is {other} iterations, not {iters}: count the loop."
        if _close(got, np.ones(shape), 1e-12):
            hint = "that is the starting plane wave: apply gs_step n_iter times and return the result."
        if _close(got, ref.gerchberg_saxton(images, transfers[:len(images)], n_iter=iters, pure_phase=True), 1e-8):
            hint = "do not force the amplitude of the exit wave to 1 here; keep what gs_step returns."
        raise CheckFailure(f"`{name}` differs from the course's Gerchberg-Saxton (largest difference "
                           f"{np.abs(got - want).max():.3g}).\nHint: {hint}")
    wave = _complex("gerchberg_saxton", _call("gerchberg_saxton", gerchberg_saxton, intensities, transfers, 150),
                    shape)
    band = np.real(np.fft.ifft2(np.fft.fft2(phase) * (np.abs(transfers[0]) > 0)))
    error = ref.phase_error(np.angle(wave), band)
    check_true(error < 0.01, f"from noise-free images 150 iterations should recover the phase within 0.01 rad; "
               f"the error is {error:.3g} rad.")


@answers(TUTORIAL, "phase_error", "ml4em.phase.phase_error")
def check_phase_error(phase_error, *, shape=(20, 16), seed=0):
    """``phase_error(estimate, truth)``: RMS of the wrapped difference after removing the circular-mean offset."""
    check_callable(phase_error, "phase_error")
    rng = np.random.default_rng(seed)
    truth = rng.uniform(-np.pi, np.pi, shape)
    noise = 0.2 * rng.standard_normal(shape)
    cases = [("estimate = truth + noise", truth + noise, None),
             ("estimate = truth + 1.3 (a constant)", truth + 1.3, "a constant offset is not an error: remove it."),
             ("estimate = truth + noise + 2 pi", truth + noise + 2 * np.pi,
              "wrap the difference into [-pi, pi] (np.angle(np.exp(1j * d))): phases are defined modulo 2 pi."),
             ("estimate = truth + noise + 3.0", truth + noise + 3.0,
              "the offset is an angle: take the circular mean, np.angle(np.mean(np.exp(1j * d))), not np.mean(d)."),
             ("estimate = truth + noise + ramp", truth + noise + np.linspace(-1, 1, shape[1])[None, :], None)]
    for label, estimate, hint in cases:
        e0, t0 = estimate.copy(), truth.copy()
        got = check_scalar(f"phase_error({label})", _call("phase_error", phase_error, estimate, truth))
        check_true(np.array_equal(estimate, e0) and np.array_equal(truth, t0),
                   "`phase_error` changed its inputs in place.")
        want = ref.phase_error(estimate, truth)
        if abs(got - want) <= 1e-9:
            continue
        d = estimate - truth
        circular = np.angle(np.mean(np.exp(1j * d)))
        wrapped = np.angle(np.exp(1j * (d - circular)))
        rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
        alternatives = [
            ((rms(np.angle(np.exp(1j * d))), rms(d)), "a constant offset is not an error: remove the circular mean "
             "of d first."),
            ((rms(d - d.mean()), rms(np.angle(np.exp(1j * (d - d.mean()))))), "the offset is an angle: take the "
             "circular mean, np.angle(np.mean(np.exp(1j * d))), not np.mean(d)."),
            ((rms(d - circular),), "wrap the difference into [-pi, pi] (np.angle(np.exp(1j * (d - c)))): phases are "
             "defined modulo 2 pi."),
            ((rms(wrapped) ** 2,), "the ROOT of the mean square (rad), not the mean square."),
            ((float(np.sqrt((wrapped**2).sum())),), "the root of the MEAN square, not of the sum.")]
        found = next((h for values, h in alternatives if any(abs(got - v) <= 1e-9 * max(1.0, abs(v))
                                                             for v in values)), None)
        hint = found or hint or "d = estimate - truth; remove the circular mean of d; wrap; sqrt(mean(d**2))."
        raise CheckFailure(f"`phase_error({label})` should be {want:.6g} rad; got {got:.6g}.\nHint: {hint}")
    same = check_scalar("phase_error(truth, truth)", _call("phase_error", phase_error, truth, truth.copy()))
    check_true(abs(same) < 1e-12, f"the error of the truth against itself should be 0; got {same:.3g}.")


@answers(TUTORIAL, "defocus_read", "ml4em.phase.first_zero_defocus", "ml4em.phase.plot_ctf", student=())
def check_defocus_read(defocus_read, *, k=0.5, cs=1e5, beam_energy=300.0, read_step=10.0):
    """``defocus_read``: the defocus (Å) read off the CTF explorer at which the first zero of sin chi is at ``k``
    (1/Å), within one slider step ``read_step``."""
    value = check_scalar("defocus_read", defocus_read)
    exact = float(ref.first_zero_defocus(k, cs, ref.wavelength(beam_energy)))
    first = _first_zero(value, cs, beam_energy)
    where = f"puts the first zero at k = {first:.3f} 1/Å" if first is not None else "gives no zero below 1 1/Å"
    check_true(abs(value - exact) <= read_step,
               f"`defocus_read` = {value:g} Å {where}, not at k = {k} 1/Å.",
               hint="move the defocus slider (Cs = 1e5 Å) until the dashed line (first zero) meets the dotted line "
                    "at k; the defocus is in Å." if value > 0 else
                    "the first zero moves in with UNDERfocus, which is positive in this convention.")


def _first_zero(defocus, cs, beam_energy):
    k = np.linspace(0.0, 1.0, 4001)[1:]
    ctf = np.sin(ref.aberration_phase(k, ref.wavelength(beam_energy), defocus=defocus, cs=cs))
    crossings = np.nonzero(np.sign(ctf[1:]) * np.sign(ctf[:-1]) <= 0)[0]
    return float(k[crossings[0] + 1]) if crossings.size else None


@answers(TUTORIAL, "first_zero_defocus", "ml4em.phase.first_zero_defocus")
def check_first_zero_defocus(first_zero_defocus, *, k=0.5, cs=1e5, beam_energy=300.0,
                             extra=((0.3, 1e5, 300.0), (0.8, 1.2e7, 200.0), (0.5, 0.0, 80.0))):
    """``first_zero_defocus(k, cs, wavelength)``: the underfocus (Å) at which chi(k) = -pi."""
    check_callable(first_zero_defocus, "first_zero_defocus")
    for kk, c, energy in ((k, cs, beam_energy), *extra):
        lam = ref.wavelength(energy)
        name = f"first_zero_defocus({kk}, {c:g}, {lam:.6f})"
        got = check_scalar(name, _call("first_zero_defocus", first_zero_defocus, kk, c, lam))
        want = float(ref.first_zero_defocus(kk, c, lam))
        chi = ref.aberration_phase(kk, lam, defocus=got, cs=c)
        check_true(abs(got - want) <= 1e-6 * want,
                   f"`{name}` should be {want:.6g} Å; got {got:.6g} (chi at k is then {float(chi):.4g} rad).",
                   hint="solve chi(k) = -pi for the defocus: pi lambda k^2 (cs lambda^2 k^2 / 2 - defocus) = -pi.")
    ks = np.array([0.3, 0.45, 0.6])
    lam = ref.wavelength(beam_energy)
    many = check_array("first_zero_defocus(array of k, ...)",
                       _call("first_zero_defocus", first_zero_defocus, ks, cs, lam))
    check_true(many.shape == ks.shape and np.allclose(many, ref.first_zero_defocus(ks, cs, lam), rtol=1e-6),
               "`first_zero_defocus` should work element-wise on an array of k (use numpy operations).")
