"""K-means clustering: the steps written out, and a fast estimator that matches scikit-learn.

Submodules:

- :mod:`ml4em.clustering.steps`     the pieces of the algorithm as tutorial 03 writes them: :func:`assign_clusters`
  (E-step), :func:`update_centres` (M-step), :func:`kmeans_cost`, :func:`lloyd` (the loop) and
  :func:`kmeans_plusplus`
- :mod:`ml4em.clustering.kmeans`    :class:`KMeans`, the pieces put together with scikit-learn's estimator API; from
  the same initial centres it follows scikit-learn's Lloyd iterations (same labels, same inertia), in chunks that
  bound the memory and on several threads
- :mod:`ml4em.clustering.examples`  the potato data set and the tutorial's figures

Used in: tutorials/03_clustering.
"""

from .examples import POTATO_FEATURES, POTATO_VARIETIES, make_potatoes, plot_kmeans_steps, plot_thickness_clusters
from .kmeans import KMeans
from .steps import assign_clusters, kmeans_cost, kmeans_plusplus, lloyd, update_centres

__all__ = ["KMeans", "assign_clusters", "update_centres", "kmeans_cost", "lloyd", "kmeans_plusplus", "make_potatoes",
           "POTATO_FEATURES", "POTATO_VARIETIES", "plot_kmeans_steps", "plot_thickness_clusters"]
