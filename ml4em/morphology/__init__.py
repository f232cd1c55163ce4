"""Nanoparticle morphology from TEM images: simulate, segment, describe, classify, tune.

After B. Lee et al., ACS Nano 14, 17125 (2020), doi:10.1021/acsnano.0c06809.

Submodules:

- :mod:`ml4em.morphology.simulate`     seeded TEM images of spheres, rods, cubes and triangles, with their truth
- :mod:`ml4em.morphology.segment`      Otsu threshold and watershed; IoU and F1 of a segmentation
- :mod:`ml4em.morphology.descriptors`  area, aspect ratio, solidity, circularity, number of corners
- :mod:`ml4em.morphology.classify`     Gaussian mixture with the BIC, K-means, class matching, class fractions
- :mod:`ml4em.morphology.tuning`       a genetic algorithm (:mod:`ml4em.ga`) tunes the segmentation

Used in: tutorials/12_nanoparticle_morphology.
"""

from .simulate import N_CORNERS, SHAPES, ParticleImage, shape_mask, simulate_particles, touching_pairs_image
from .segment import DEFAULT_PARAMS, iou_matrix, segment, segmentation_f1
from .descriptors import FEATURES, count_corners, radial_profile, region_descriptors
from .classify import (DEFAULT_FEATURES, adjusted_rand, feature_matrix, kmeans_classes, match_classes,
                       measure_particles, n_until_stable, running_fractions, select_n_classes)
from .tuning import SegmentationFitness, merge_onset, plot_watershed_pairs, segmentation_space, tune_segmentation

__all__ = ["SHAPES", "N_CORNERS", "ParticleImage", "shape_mask", "simulate_particles", "touching_pairs_image",
           "DEFAULT_PARAMS", "segment", "iou_matrix", "segmentation_f1",
           "FEATURES", "radial_profile", "count_corners", "region_descriptors",
           "DEFAULT_FEATURES", "feature_matrix", "select_n_classes", "kmeans_classes", "match_classes",
           "adjusted_rand", "running_fractions", "n_until_stable", "measure_particles",
           "segmentation_space", "SegmentationFitness", "tune_segmentation", "merge_onset", "plot_watershed_pairs"]
