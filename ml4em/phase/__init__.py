"""Phase retrieval in conventional TEM: the exit wave of a 2D material, the CTF, and getting the phase back.

Submodules:

- :mod:`ml4em.phase.optics`    relativistic wavelength, interaction constant, the aberration phase chi(k) with
  defocus and spherical aberration, the transfer function, imaging, the CTF explorer
- :mod:`ml4em.phase.objects`   seeded weak-phase objects of graphene and WS2 and their noisy images
- :mod:`ml4em.phase.retrieval` Gerchberg-Saxton from several defocused images, the phase error
- :mod:`ml4em.phase.unet`      :class:`PhaseNet`, a U-Net from one image to the phase (Keras, imported lazily)

Used in: tutorials/11_phase_retrieval.
"""

from .objects import (ATOM_POTENTIAL, MATERIALS, Material, atom_positions, make_phase_objects, projected_potential,
                      simulate_images)
from .optics import (aberration_phase, first_zero_defocus, image_intensity, interaction_constant, plot_ctf,
                     propagate, scherzer_defocus, spatial_frequencies, transfer_function, wavelength)
from .retrieval import gerchberg_saxton, gs_step, phase_error
from .unet import PhaseNet, build_phase_unet, image_to_input

__all__ = ["wavelength", "interaction_constant", "spatial_frequencies", "aberration_phase", "transfer_function",
           "propagate", "image_intensity", "first_zero_defocus", "scherzer_defocus", "plot_ctf",
           "ATOM_POTENTIAL", "MATERIALS", "Material", "atom_positions", "projected_potential", "make_phase_objects",
           "simulate_images",
           "gs_step", "gerchberg_saxton", "phase_error", "image_to_input", "build_phase_unet", "PhaseNet"]
