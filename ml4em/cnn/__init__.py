"""Convolutional networks that find point defects in atomic-resolution STEM images.

Convolution and max pooling by hand in numpy (:func:`conv2d`, :func:`max_pool2d`),
a small fully-convolutional U-Net (:func:`build_defect_unet`) that maps an image
to a per-pixel defect probability, the detector built on it
(:class:`DefectFinder`), and the scores of defect detection within a tolerance
radius (:func:`match_defects`, :func:`detection_scores`) with the map of true
positives, false negatives and false positives (:func:`plot_detections`).

The approach (train a fully-convolutional network on simulated images, read
defects off its output map) follows Madsen et al., Adv. Theory Simul. 1,
1800037 (2018), doi:10.1002/adts.201800037; Patton et al., SC'18,
doi:10.1109/SC.2018.00053, searched such networks' architectures at scale.

Submodules:

- :mod:`ml4em.cnn.convolution`  convolution and max pooling in numpy, and the filters to try by hand
- :mod:`ml4em.cnn.unet`         image scaling and the Keras U-Net builders
- :mod:`ml4em.cnn.detection`    defects read off a probability map, matched to the truth within a tolerance
  radius, scored (precision, recall, F1) and drawn
- :mod:`ml4em.cnn.finder`       :class:`DefectFinder`: training on simulated images, F1 against dose, the explorer

Used in: tutorials/04_cnn (and tutorials/06_genetic_algorithms for the data).
"""

from .convolution import KERNELS, conv2d, max_pool2d, plot_filtered
from .detection import detection_scores, find_defects, greedy_detection_f1, match_defects, plot_detections
from .finder import DefectFinder, dose_explorer, f1_against_dose, shuffled_batches, weighted_binary_crossentropy
from .unet import build_defect_unet, build_unet, normalize_images

__all__ = ["conv2d", "max_pool2d", "KERNELS", "plot_filtered", "normalize_images", "build_unet", "build_defect_unet",
           "find_defects", "match_defects", "detection_scores", "greedy_detection_f1", "shuffled_batches",
           "weighted_binary_crossentropy",
           "DefectFinder", "f1_against_dose", "plot_detections", "dose_explorer"]
