"""Reinforcement learning for adaptive partial scanning (tutorials/10_reinforcement_learning).

One topic per module:

- :mod:`ml4em.rl.bandit`    the multi-armed bandit: epsilon-greedy and UCB action choices, regret curves
- :mod:`ml4em.rl.gridworld` a small grid world, the tabular Q-learning update, value iteration
- :mod:`ml4em.rl.scanning`  a STEM partial-scanning environment with the gymnasium API and its reconstructor
- :mod:`ml4em.rl.policy`    a linear softmax policy over scan patches, trained with REINFORCE; raster and random scans

The scanning problem follows J. M. Ede, *Adaptive partial scanning transmission electron microscopy with
reinforcement learning*, Mach. Learn.: Sci. Technol. 2, 045011 (2021), doi:10.1088/2632-2153/abf5b6, on a
laptop scale: patches instead of scan-path segments, a fixed interpolating reconstructor instead of a network.

Used in: tutorials/10_reinforcement_learning.
"""

from .bandit import epsilon_greedy, regret_curve, run_bandit, ucb_action, plot_regret
from .gridworld import GridWorld, q_learning, q_update, value_iteration, plot_gridworld
from .policy import (FEATURE_NAMES, evaluate_scans, patch_features, plot_policy_scan, plot_scan, policy_probabilities, random_policy, raster_policy,
                     reinforce, returns_to_go, softmax_policy, N_FEATURES)
from .scanning import ScanEnv, make_scan_images, reconstruct, reconstruction_error

__all__ = ["epsilon_greedy", "ucb_action", "run_bandit", "regret_curve", "plot_regret",
           "GridWorld", "q_update", "q_learning", "value_iteration", "plot_gridworld",
           "ScanEnv", "make_scan_images", "reconstruct", "reconstruction_error",
           "patch_features", "N_FEATURES", "policy_probabilities", "softmax_policy", "returns_to_go", "reinforce",
           "random_policy", "raster_policy", "evaluate_scans", "plot_scan", "plot_policy_scan", "FEATURE_NAMES"]
