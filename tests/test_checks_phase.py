"""ml4em.checks.phase: every check passes a right answer written differently from the package's, and fails the
typical wrong answers with a message that says why."""

import numpy as np
import pytest

from ml4em import phase
from ml4em.checks import CheckFailure
from ml4em.checks import phase as checks


def blank(*args, **kwargs):
    raise NotImplementedError()


def crashes(*args, **kwargs):
    raise ValueError("operands could not be broadcast together")


# -- right answers, written differently from ml4em.phase ----------------------------------------------------------

def right_transfer(shape, sampling, beam_energy, defocus, cs, aperture):
    rest = 510.99895
    lam = 12.398419843320026 / np.sqrt(beam_energy**2 + 2 * rest * beam_energy)
    ky, kx = np.meshgrid(np.fft.fftfreq(shape[0], sampling), np.fft.fftfreq(shape[1], sampling), indexing="ij")
    k = np.hypot(ky, kx)
    chi = 0.5 * np.pi * cs * lam**3 * k**4 - np.pi * lam * defocus * k**2
    return (np.cos(chi) - 1j * np.sin(chi)) * (k * lam <= aperture / 1000)


def right_gs_step(wave, amplitudes, transfers):
    out = np.zeros(wave.shape, complex)
    for a, h in zip(amplitudes, transfers):
        image = np.fft.ifft2(np.fft.fft2(wave) * h)
        image = a * image / np.where(np.abs(image) > 0, np.abs(image), 1)
        out += np.fft.ifft2(np.fft.fft2(image) * h.conj())
    return out / len(transfers)


def right_gerchberg_saxton(intensities, transfers, n_iter):
    amplitudes = np.sqrt(np.maximum(intensities, 0))
    wave = np.full(intensities.shape[1:], 1 + 0j)
    for _ in range(n_iter):
        wave = right_gs_step(wave, amplitudes, transfers)
    return wave


def right_phase_error(estimate, truth):
    z = np.exp(1j * (estimate - truth))
    z = z * np.conj(z.mean()) / abs(z.mean())
    return float(np.sqrt(np.mean(np.angle(z) ** 2)))


def right_first_zero(k, cs, wavelength):
    k2 = np.square(k)
    return (1 + 0.5 * cs * wavelength**3 * k2**2) / (wavelength * k2)


def test_right_answers_pass():
    checks.check_transfer(right_transfer)
    checks.check_transfer(right_transfer, shape=(9, 16), sampling=0.2, beam_energy=200.0, defocus=600.0, cs=1.2e7,
                          aperture=12.0)
    checks.check_gs_step(right_gs_step)
    checks.check_gs_step(right_gs_step, shape=(10, 14), n_planes=3, seed=11)
    checks.check_gerchberg_saxton(right_gerchberg_saxton)
    checks.check_phase_error(right_phase_error)
    checks.check_phase_error(right_phase_error, shape=(7, 31), seed=31)
    checks.check_first_zero_defocus(right_first_zero)
    checks.check_defocus_read(208.0)
    checks.check_defocus_read(np.float64(215.0))


# -- wrong answers and their messages ------------------------------------------------------------------------------

def _transfer_with(**change):
    def wrong(shape, sampling, beam_energy, defocus, cs, aperture):
        lam = change.get("lam", lambda e: 12.398419843320026 / np.sqrt(e * (e + 2 * 510.99895)))(beam_energy)
        ky = np.fft.fftfreq(shape[0], sampling)[:, None]
        kx = np.fft.fftfreq(shape[1], sampling)[None, :]
        if change.get("swap"):  # np.meshgrid's default indexing="xy" gives arrays of shape (columns, rows)
            kx, ky = np.meshgrid(np.fft.fftfreq(shape[0], sampling), np.fft.fftfreq(shape[1], sampling))
        k2 = kx**2 + ky**2
        chi = np.pi * lam * k2 * (0.5 * cs * lam**2 * k2 - change.get("sign_df", 1) * defocus)
        inside = lam * np.sqrt(k2) <= aperture * change.get("aperture_unit", 1e-3)
        return np.where(inside, np.exp(change.get("sign", -1) * 1j * chi), 0)
    return wrong


@pytest.mark.parametrize("wrong, match", [
    (_transfer_with(sign=1), r"exp\(-1j \* chi\)"),
    (_transfer_with(sign_df=-1), "sign of the defocus"),
    (_transfer_with(lam=lambda e: 12.398419843320026 / np.sqrt(2 * 510.99895 * e)), "relativistic"),
    (_transfer_with(swap=True), "should have shape .*\n.*meshgrid"),
    (_transfer_with(aperture_unit=1.0), "outside the aperture"),
    (crashes, "raised ValueError: operands could not be broadcast"),
    (lambda *a: None, "forget a `return`"),
], ids=["sign", "defocus-sign", "classical-wavelength", "axes", "aperture-in-rad", "blank", "none"])
def test_check_transfer_fails_wrong_answers(wrong, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_transfer(wrong)


def _gs_with(**change):
    def wrong(wave, amplitudes, transfers):
        images = np.fft.ifft2(np.fft.fft2(wave)[None] * transfers)
        if not change.get("keep_amplitude"):
            images = change.get("power", 1) and amplitudes ** change.get("power", 1) * np.exp(1j * np.angle(images))
        back = transfers if change.get("no_conj") else np.conj(transfers)
        out = np.fft.ifft2(np.fft.fft2(images) * back)
        return out.sum(axis=0) if change.get("sum") else out.mean(axis=0)
    return wrong


@pytest.mark.parametrize("wrong, match", [
    (_gs_with(sum=True), "average the back-propagated"),
    (_gs_with(no_conj=True), "complex conjugate"),
    (_gs_with(power=2), "already square roots"),
    (_gs_with(keep_amplitude=True), "replace the amplitude"),
    (crashes, "raised ValueError: operands could not be broadcast"),
], ids=["sum", "no-conj", "squared", "amplitude-kept", "blank"])
def test_check_gs_step_fails_wrong_answers(wrong, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_gs_step(wrong)


def test_check_gs_step_refuses_in_place_changes():
    def in_place(wave, amplitudes, transfers):
        out = right_gs_step(wave, amplitudes, transfers)
        wave[...] = out
        return out

    with pytest.raises(CheckFailure, match="changed its inputs in place"):
        checks.check_gs_step(in_place)


def phase_only_gerchberg_saxton(intensities, transfers, n_iter):
    amplitudes = np.sqrt(np.maximum(intensities, 0))
    wave = np.ones(intensities.shape[1:], complex)
    for _ in range(n_iter):
        wave = np.exp(1j * np.angle(right_gs_step(wave, amplitudes, transfers)))
    return wave


@pytest.mark.parametrize("wrong, match", [
    (lambda i, t, n: right_gerchberg_saxton(i, t, n + 1), "that is .* iterations, not"),
    (lambda i, t, n: right_gerchberg_saxton(i, t, max(n - 1, 0)), "iterations, not|starting plane wave"),
    (lambda i, t, n: phase_only_gerchberg_saxton(i, t, n), "do not force the amplitude"),
    (lambda i, t, n: right_gerchberg_saxton(np.abs(i), t, n), "differs from the course's"),
    (lambda i, t, n: np.ones(i.shape[1:], complex), "that is the starting plane wave"),
    (lambda i, t, n: np.zeros(i.shape[1:], complex), "differs from the course's"),
], ids=["one-more", "one-less", "pure-phase", "abs-not-clip", "start", "zeros"])
def test_check_gerchberg_saxton_fails_wrong_answers(wrong, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_gerchberg_saxton(wrong)


def test_check_gerchberg_saxton_without_clipping_reports_nan():
    def no_clip(intensities, transfers, n_iter):
        with np.errstate(invalid="ignore"):
            amplitudes = np.sqrt(intensities)
        wave = np.ones(intensities.shape[1:], complex)
        for _ in range(n_iter):
            wave = right_gs_step(wave, amplitudes, transfers)
        return wave

    with pytest.raises(CheckFailure, match="non-finite.*\n.*square root of a negative"):
        checks.check_gerchberg_saxton(no_clip)


@pytest.mark.parametrize("wrong, match", [
    (lambda e, t: float(np.sqrt(np.mean((e - t) ** 2))), "constant offset is not an error"),
    (lambda e, t: float(np.sqrt(np.mean((e - t - np.angle(np.mean(np.exp(1j * (e - t))))) ** 2))),
     "wrap the difference"),
    (lambda e, t: float(np.sqrt(np.mean((e - t - np.mean(e - t)) ** 2))), "circular mean"),
    (lambda e, t: float(np.sqrt(np.mean(np.angle(np.exp(1j * (e - t - np.mean(e - t)))) ** 2))), "circular mean"),
    (lambda e, t: right_phase_error(e, t) ** 2, "ROOT of the mean square"),
    (lambda e, t: right_phase_error(e, t) * np.sqrt(e.size), "MEAN square, not of the sum"),
    (lambda e, t: np.full(e.shape, right_phase_error(e, t)), "single number"),
], ids=["no-offset", "no-wrap", "arithmetic-mean", "arithmetic-mean-wrapped", "squared", "sum", "array"])
def test_check_phase_error_fails_wrong_answers(wrong, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_phase_error(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda k, cs, lam: 1 / (lam * k**2), "should be"),
    (lambda k, cs, lam: 1 / (lam * k**2) - 0.5 * cs * lam**2 * k**2, "chi\\(k\\) = -pi"),
    (lambda k, cs, lam: float(right_first_zero(np.ravel(k)[0], cs, lam)), "element-wise"),
    (crashes, "raised ValueError: operands could not be broadcast"),
], ids=["no-cs", "cs-sign", "scalar-only", "blank"])
def test_check_first_zero_defocus_fails_wrong_answers(wrong, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_first_zero_defocus(wrong)


@pytest.mark.parametrize("read, match", [
    (300.0, "puts the first zero at k = 0.4"),      # read too far: the zero has moved in to ~0.42 1/Å
    (-210.0, "UNDERfocus, which is positive"),
    (208.0e-10, "gives no zero below 1 1/Å"),         # in metres
    ([210.0, 220.0], "single number"),
], ids=["misread", "overfocus", "metres", "list"])
def test_check_defocus_read_fails_wrong_values(read, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_defocus_read(read)


@pytest.mark.parametrize("check, implementation", [
    (checks.check_transfer, lambda *a: phase.transfer_function(a[0], a[1], beam_energy=a[2], defocus=a[3], cs=a[4],
                                                               aperture=a[5])),
    (checks.check_gs_step, phase.gs_step),
    (checks.check_gerchberg_saxton, lambda i, t, n: phase.gerchberg_saxton(i, t, n_iter=n)),
    (checks.check_phase_error, phase.phase_error),
], ids=["transfer", "gs_step", "gerchberg_saxton", "phase_error"])
def test_checks_refuse_the_package(check, implementation):
    with pytest.raises(CheckFailure, match="the package's own answer|course's version"):
        check(implementation)


@pytest.mark.parametrize("check", [checks.check_transfer, checks.check_gs_step, checks.check_gerchberg_saxton,
                                   checks.check_phase_error, checks.check_first_zero_defocus])
def test_a_blank_answer_is_reported_as_not_answered(check):
    with pytest.raises(NotImplementedError):  # ml4em.check() says "not answered yet"
        check(blank)
