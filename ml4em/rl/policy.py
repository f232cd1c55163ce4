"""Scan policies for :class:`ml4em.rl.scanning.ScanEnv`: a linear softmax policy trained with REINFORCE, and the
raster and random baselines at the same dose.

A policy is a callable ``policy(observation, info, rng) -> action``. The learned one scores every patch not yet
scanned by a linear function ``features @ theta`` of what the scan has shown around it (:func:`patch_features`)
and draws a patch from the softmax of the scores. REINFORCE (R. J. Williams, Mach. Learn. 8, 229 (1992),
doi:10.1007/BF00992696) raises the log-probability of each action in proportion to how much better than a
baseline the return that followed it was.

Used in: tutorials/10_reinforcement_learning.
"""

import numpy as np
from ..plotting import color
from .scanning import ScanEnv

__all__ = ["FEATURE_NAMES", "FEATURE_SCALES", "N_FEATURES", "patch_features", "policy_probabilities", "returns_to_go", "reinforce",
           "softmax_policy", "random_policy", "raster_policy", "evaluate_scans", "plot_scan", "plot_policy_scan"]

#: What each column of :func:`patch_features` measures, around a patch (its 3 x 3 neighbourhood of patches).
FEATURE_NAMES = ("scanned fraction nearby", "mean signal nearby", "signal spread nearby", "nothing scanned nearby",
                 "distance to the scan")
N_FEATURES = len(FEATURE_NAMES)
#: Typical size of each feature; :func:`patch_features` divides by it so that all features are of order 1.
FEATURE_SCALES = (1.0, 0.25, 0.25, 1.0, 0.25)


def patch_features(observation, patch):
    """Features of every patch from an observation of :class:`~ml4em.rl.scanning.ScanEnv`.

    Parameters
    ----------
    observation : ndarray of shape (2, size, size)
        Measured values and scanned mask.
    patch : int
        Side of a patch in pixels.

    Returns
    -------
    ndarray of shape (n_patches, N_FEATURES)
        Per patch (raster order), over the scanned pixels of its 3 x 3 neighbourhood of patches: the fraction
        scanned, the mean and the standard deviation of the measured values (image units, 0 when none), 1 when
        none is scanned, and the distance from the patch centre to the nearest scanned patch's centre in units
        of the image side (1 when nothing is scanned); each divided by its :data:`FEATURE_SCALES` entry.

    Examples
    --------
    >>> obs = np.zeros((2, 12, 12), np.float32); obs[:, :4, :4] = 1.0
    >>> f = patch_features(obs, 4)
    >>> f.shape, round(float(f[1, 0]), 3), float(f[8, 3])   # next to the scanned patch / far from it
    ((9, 5), 0.167, 1.0)
    """
    obs = np.asarray(observation, dtype=float)
    if obs.ndim != 3 or obs.shape[0] != 2 or obs.shape[1] % patch or obs.shape[1] != obs.shape[2]:
        raise ValueError(f"observation should have shape (2, size, size) with size a multiple of patch={patch}; "
                         f"got {obs.shape}.")
    size = obs.shape[1]
    g = size // patch
    mask = obs[1] > 0.5
    values = np.where(mask, obs[0], 0.0)
    per_patch = np.stack([mask, values, values**2, np.ones_like(values)]).reshape(4, g, patch, g, patch).sum(axis=(2, 4))
    padded = np.pad(per_patch, ((0, 0), (1, 1), (1, 1)))
    n, s, s2, total = sum(padded[:, i:i + g, j:j + g] for i in range(3) for j in range(3))  # 3 x 3 neighbourhood
    seen = np.maximum(n, 1.0)
    mean = s / seen
    spread = np.sqrt(np.maximum(s2 / seen - mean**2, 0.0))
    scanned = per_patch[0].ravel() > 0
    if scanned.any():
        rc = np.stack(np.divmod(np.arange(g * g), g), axis=-1).astype(float)
        gaps = np.sqrt(((rc[:, None, :] - rc[None, scanned, :]) ** 2).sum(axis=-1)).min(axis=1)
        dist = (gaps * patch).reshape(g, g) / size
    else:
        dist = np.ones((g, g))
    features = np.stack([n / total, mean, spread, (n == 0).astype(float), dist], axis=-1) / FEATURE_SCALES
    return features.reshape(g * g, -1)


def policy_probabilities(theta, features, available):
    """Softmax of ``features @ theta`` over the available patches (0 for the others).

    Parameters
    ----------
    theta : ndarray of shape (n_features,)
    features : ndarray of shape (n_patches, n_features)
    available : ndarray of bool, shape (n_patches,)

    Returns
    -------
    ndarray of shape (n_patches,), summing to 1

    Examples
    --------
    >>> p = policy_probabilities(np.array([1.0]), np.array([[0.0], [np.log(3)], [5.0]]), np.array([1, 1, 0], bool))
    >>> np.round(p, 3).tolist()
    [0.25, 0.75, 0.0]
    """
    available = np.asarray(available, dtype=bool)
    if not available.any():
        raise ValueError("available has no True entry: every patch is scanned, there is nothing left to choose.")
    logits = np.asarray(features, dtype=float) @ np.asarray(theta, dtype=float)
    logits = np.where(available, logits, -np.inf)
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def returns_to_go(rewards, gamma):
    """Discounted return from every step on: ``G_t = r_t + gamma r_{t+1} + gamma^2 r_{t+2} + ...``.

    Parameters
    ----------
    rewards : array_like of shape (n_steps,)
    gamma : float in [0, 1]

    Returns
    -------
    ndarray of shape (n_steps,)

    Examples
    --------
    >>> returns_to_go([1.0, 0.0, 2.0], 0.5).tolist()
    [1.5, 1.0, 2.0]
    """
    rewards = np.asarray(rewards, dtype=float)
    if rewards.ndim != 1:
        raise ValueError(f"rewards should be a 1-D array, one reward per step; got shape {rewards.shape}.")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma={gamma!r} should be a discount factor in [0, 1].")
    out = np.empty_like(rewards)
    running = 0.0
    for t in range(rewards.size - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def reinforce(env, n_updates, *, group_size=4, learning_rate=5.0, gamma=1.0, theta=None, seed=None):
    """Train the linear softmax scan policy with REINFORCE, the baseline being the mean of a group of episodes.

    Each update draws one image and plays ``group_size`` episodes on it with the current policy. With the
    returns-to-go ``G[k, t]`` of episode ``k`` and the group's mean ``b[t] = mean_k G[k, t]`` as baseline (it
    removes how easy the image is, which no action changes):
    ``theta += learning_rate / group_size * sum_k sum_t (G[k, t] - b[t]) grad log pi(a[k, t] | s[k, t])``, where
    for the linear softmax ``grad log pi(a | s) = phi(s, a) - sum_a' pi(a' | s) phi(s, a')``.

    Parameters
    ----------
    env : ScanEnv
    n_updates : int >= 1
        Number of updates (``n_updates * group_size`` episodes).
    group_size : int >= 2, default 4
    learning_rate : float > 0, default 5
    gamma : float in [0, 1], default 1
    theta : ndarray of shape (N_FEATURES,), optional
        Start (default zeros: the random policy).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    theta : ndarray of shape (N_FEATURES,)
    returns : ndarray of shape (n_updates,)
        Mean undiscounted return of each update's episodes (fraction of the initial error removed).

    Examples
    --------
    >>> from ml4em.rl.scanning import ScanEnv, make_scan_images
    >>> env = ScanEnv(*make_scan_images(4, size=24, seed=0), patch=6, dose_fraction=0.25)
    >>> theta, returns = reinforce(env, 3, seed=0)
    >>> theta.shape, returns.shape
    ((5,), (3,))
    """
    for name, value, low in (("n_updates", n_updates, 1), ("group_size", group_size, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    if learning_rate <= 0:
        raise ValueError(f"learning_rate={learning_rate!r} should be > 0.")
    rng = np.random.default_rng(seed)
    theta = np.zeros(N_FEATURES) if theta is None else np.array(theta, dtype=float)
    history = np.empty(n_updates)
    for update in range(n_updates):
        index = int(rng.integers(len(env.clean)))
        returns, grads, totals = [], [], []
        for _ in range(group_size):
            obs, info = env.reset(seed=int(rng.integers(2**31)), options={"index": index})
            rewards, done = [], False
            while not done:
                features = patch_features(obs, env.patch)
                probs = policy_probabilities(theta, features, info["action_mask"])
                action = int(rng.choice(probs.size, p=probs))
                grads.append(features[action] - probs @ features)
                obs, reward, terminated, truncated, info = env.step(action)
                rewards.append(reward)
                done = terminated or truncated
            returns.append(returns_to_go(rewards, gamma))
            totals.append(float(np.sum(rewards)))
        G = np.array(returns)                       # (group_size, n_steps)
        advantage = G - G.mean(axis=0)
        theta += learning_rate / group_size * advantage.ravel() @ np.array(grads)
        history[update] = float(np.mean(totals))
    return theta, history


def softmax_policy(theta, patch, *, greedy=True):
    """The learned policy: the best-scored available patch (``greedy``) or one drawn from the softmax.

    Examples
    --------
    >>> obs = np.zeros((2, 12, 12), np.float32); obs[:, :4, :4] = 1.0
    >>> info = {"action_mask": np.arange(9) > 0}
    >>> softmax_policy(np.array([0, 0, 0, 0, 1.0]), 4)(obs, info, None)   # the patch farthest from the scan
    8
    """
    theta = np.asarray(theta, dtype=float)

    def policy(observation, info, rng):
        probs = policy_probabilities(theta, patch_features(observation, patch), info["action_mask"])
        return int(np.argmax(probs)) if greedy else int(rng.choice(probs.size, p=probs))

    return policy


def random_policy(observation, info, rng):
    """A patch not yet scanned, uniformly at random.

    Examples
    --------
    >>> random_policy(None, {"action_mask": np.array([False, True, False])}, np.random.default_rng(0))
    1
    """
    return int(rng.choice(np.flatnonzero(info["action_mask"])))


def raster_policy(env, *, sparse=True):
    """The raster scan at the same dose.

    ``sparse=True``: ``n_steps`` patches evenly spaced along the raster order (a sparse raster, which covers the
    whole field); ``sparse=False``: the first ``n_steps`` patches, row by row (a full raster stopped when the
    budget is spent).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> env = SimpleNamespace(n_patches=64, n_steps=4)
    >>> [raster_policy(env)(None, {"step": k}, None) for k in range(4)]
    [0, 21, 42, 63]
    """
    order = (np.round(np.linspace(0, env.n_patches - 1, env.n_steps)).astype(int) if sparse
             else np.arange(env.n_steps))

    def policy(observation, info, rng):
        return int(order[info["step"]])

    return policy


def evaluate_scans(env, policy, indices, *, seed=0):
    """Final reconstruction error of ``policy`` on the images ``indices`` of ``env`` (one episode each).

    Returns
    -------
    ndarray of shape (len(indices),)
        Mean squared error of the reconstruction when the dose budget is spent (squared image units).

    Examples
    --------
    >>> from ml4em.rl.scanning import ScanEnv, make_scan_images
    >>> env = ScanEnv(*make_scan_images(3, size=24, seed=0), patch=6, dose_fraction=0.5)
    >>> evaluate_scans(env, random_policy, [0, 1, 2]).shape
    (3,)
    """
    rng = np.random.default_rng(seed)
    errors = []
    for i in indices:
        obs, info = env.reset(seed=int(rng.integers(2**31)), options={"index": int(i)})
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy(obs, info, rng))
            done = terminated or truncated
        errors.append(info["error"])
    return np.array(errors)


def plot_scan(ax, env, policy, index, *, seed=0, title=None):
    """Play one episode on image ``index`` and draw the reconstruction with the scanned patches outlined.

    Returns
    -------
    float
        The final reconstruction error (squared image units).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ml4em.rl.scanning import make_scan_images
    >>> env = ScanEnv(*make_scan_images(1, size=24, seed=0), patch=6)
    >>> fig, ax = plt.subplots()
    >>> plot_scan(ax, env, random_policy, 0) > 0
    True
    """
    from matplotlib.patches import Rectangle

    error = float(evaluate_scans(env, policy, [index], seed=seed)[0])
    size, p = env.size, env.patch
    ax.imshow(env.reconstruction(), cmap="gray", vmin=0, vmax=1.1, extent=(-0.5, size - 0.5, size - 0.5, -0.5))
    for a in np.flatnonzero(env.scanned):
        r, c = divmod(int(a), env.grid)
        ax.add_patch(Rectangle((c * p - 0.5, r * p - 0.5), p, p, fill=False, edgecolor=color(1), linewidth=1.2))
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.grid(False)
    ax.set_title((title + "\n" if title else "") + f"error {error:.4f} (image units²)", fontsize=10)
    return error


def plot_policy_scan(ax, clean, noisy, theta, policy="learned", dose_fraction=0.25, index=0, *, patch=6, seed=0):
    """Explorer panel: one scan of image ``index`` by the learned, random or raster policy at a dose fraction.

    Parameters
    ----------
    ax : matplotlib Axes
    clean, noisy : ndarray of shape (n_images, size, size)
    theta : ndarray of shape (N_FEATURES,)
        Weights of the learned policy.
    policy : {"learned", "random", "raster"}
    dose_fraction : float in (0, 1]
    index : int

    Returns
    -------
    float
        The final reconstruction error (squared image units).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ml4em.rl.scanning import make_scan_images
    >>> fig, ax = plt.subplots()
    >>> plot_policy_scan(ax, *make_scan_images(1, size=24, seed=0), np.zeros(5), "raster") > 0
    True
    """
    env = ScanEnv(clean, noisy, patch=patch, dose_fraction=dose_fraction)
    chosen = {"learned": lambda: softmax_policy(theta, patch), "random": lambda: random_policy,
              "raster": lambda: raster_policy(env)}
    if policy not in chosen:
        raise ValueError(f"policy={policy!r} should be one of {sorted(chosen)}.")
    return plot_scan(ax, env, chosen[policy](), index, seed=seed,
                     title=f"{policy}, {env.n_steps} of {env.n_patches} patches")

