"""The multi-armed bandit: epsilon-greedy and upper-confidence-bound action choices, and their regret.

A bandit has ``n_arms`` arms with unknown mean rewards ``q_true``; pulling arm ``a`` pays a reward drawn from
N(q_true[a], 1). An agent keeps a running mean ``estimates[a]`` of the rewards of each arm and the number of
pulls ``counts[a]``, and chooses the next arm from them. The (pseudo-)regret after ``T`` pulls is
``sum_t (max(q_true) - q_true[a_t])``: what the agent lost by not always pulling the best arm.

References: R. S. Sutton and A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press (2018),
ch. 2, ISBN 978-0262039246; P. Auer, N. Cesa-Bianchi and P. Fischer, Mach. Learn. 47, 235 (2002),
doi:10.1023/A:1013689704352 (UCB1).

Used in: tutorials/10_reinforcement_learning.
"""

import numpy as np

from ..plotting import style

__all__ = ["epsilon_greedy", "ucb_action", "run_bandit", "regret_curve", "plot_regret"]


def _vector(name, value):
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} should be a 1-D array with one value per arm; got shape {arr.shape}.")
    return arr


def _probability(name, value):
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name}={value!r} should be a probability between 0 and 1.")
    return float(value)


def _positive_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    return int(value)


def epsilon_greedy(estimates, epsilon, rng):
    """Choose an arm: with probability ``epsilon`` one at random, otherwise one of the best-looking arms.

    Parameters
    ----------
    estimates : array_like of shape (n_arms,)
        Current estimate of each arm's mean reward (arbitrary units).
    epsilon : float in [0, 1]
        Exploration rate. The random arm is drawn among **all** arms, the greedy one included.
    rng : numpy.random.Generator

    Returns
    -------
    int
        The chosen arm. Ties between best arms are broken uniformly at random.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> epsilon_greedy([0.1, 0.5, 0.2], 0.0, rng)
    1
    >>> sorted({epsilon_greedy([1.0, 0.0, 1.0], 0.0, rng) for _ in range(50)})
    [0, 2]
    """
    q = _vector("estimates", estimates)
    epsilon = _probability("epsilon", epsilon)
    if rng.random() < epsilon:
        return int(rng.integers(q.size))
    return int(rng.choice(np.flatnonzero(q == q.max())))


def ucb_action(estimates, counts, t, c=2.0):
    """Upper-confidence-bound choice: an untried arm first, then the largest ``Q + c sqrt(ln t / N)``.

    Parameters
    ----------
    estimates : array_like of shape (n_arms,)
        Mean reward of each arm so far (arbitrary units).
    counts : array_like of shape (n_arms,)
        Number of pulls of each arm so far.
    t : int >= 1
        Number of the current step (1 for the first pull).
    c : float >= 0, default 2
        Width of the confidence bonus; 0 is the greedy choice.

    Returns
    -------
    int
        The lowest-numbered arm never pulled, if any; otherwise the arm with the largest upper bound (the
        lowest-numbered one on a tie).

    Examples
    --------
    >>> ucb_action([0.0, 0.0, 0.0], [1, 0, 0], 2)
    1
    >>> ucb_action([1.0, 0.8], [10, 1], 12, c=1.0)   # the rarely pulled arm has the larger bound
    1
    >>> ucb_action([1.0, 0.8], [10, 1], 12, c=0.0)
    0
    """
    q, n = _vector("estimates", estimates), _vector("counts", counts)
    if n.shape != q.shape:
        raise ValueError(f"counts has shape {n.shape} but estimates has {q.shape}; give one count per arm.")
    if float(t) < 1:
        raise ValueError(f"t={t!r} should be the number of the current step, >= 1.")
    if c < 0:
        raise ValueError(f"c={c!r} should be >= 0 (the width of the confidence bonus).")
    untried = np.flatnonzero(n == 0)
    if untried.size:
        return int(untried[0])
    return int(np.argmax(q + c * np.sqrt(np.log(t) / n)))


def run_bandit(q_true, choose, n_steps, *, seed=None):
    """One run of an agent on a bandit with arms of mean ``q_true`` and unit-variance rewards.

    Parameters
    ----------
    q_true : array_like of shape (n_arms,)
        True mean reward of each arm (arbitrary units).
    choose : callable
        ``choose(estimates, counts, t, rng) -> arm``, called before every pull (``t`` from 1).
    n_steps : int >= 1
    seed : int, numpy.random.Generator or None

    Returns
    -------
    actions : ndarray of int, shape (n_steps,)
    rewards : ndarray of shape (n_steps,)

    Examples
    --------
    >>> greedy = lambda q, n, t, rng: epsilon_greedy(q, 0.1, rng)
    >>> actions, rewards = run_bandit([0.0, 1.0, -1.0], greedy, 300, seed=0)
    >>> bool(np.mean(actions[-100:] == 1) > 0.8)
    True
    """
    q_true = _vector("q_true", q_true)
    n_steps = _positive_int("n_steps", n_steps)
    rng = np.random.default_rng(seed)
    estimates, counts = np.zeros(q_true.size), np.zeros(q_true.size)
    actions, rewards = np.empty(n_steps, dtype=int), np.empty(n_steps)
    for t in range(1, n_steps + 1):
        a = int(choose(estimates.copy(), counts.copy(), t, rng))
        if not 0 <= a < q_true.size:
            raise ValueError(f"choose returned arm {a}; there are arms 0 to {q_true.size - 1}.")
        r = q_true[a] + rng.standard_normal()
        counts[a] += 1
        estimates[a] += (r - estimates[a]) / counts[a]
        actions[t - 1], rewards[t - 1] = a, r
    return actions, rewards


def regret_curve(method, param, *, n_arms=10, n_steps=1000, n_runs=200, seed=0):
    """Mean cumulative regret of epsilon-greedy or UCB agents over many bandits, all runs at once.

    Each run draws ``q_true`` from N(0, 1) and pays rewards N(q_true[a], 1); runs with the same ``seed`` see the
    same bandits and the same reward noise whatever the method, so curves can be compared.

    Parameters
    ----------
    method : {"epsilon", "ucb"}
    param : float
        ``epsilon`` (in [0, 1]) or ``c`` (>= 0).
    n_arms, n_steps, n_runs : int
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_steps,)
        Mean over the runs of the regret accumulated after each pull (arbitrary reward units).

    Examples
    --------
    >>> greedy = regret_curve("epsilon", 0.0, n_steps=500, n_runs=100, seed=1)
    >>> explorer = regret_curve("epsilon", 0.1, n_steps=500, n_runs=100, seed=1)
    >>> bool(explorer[-1] < greedy[-1])
    True
    """
    if method not in ("epsilon", "ucb"):
        raise ValueError(f"method={method!r} should be 'epsilon' or 'ucb'.")
    if method == "epsilon":
        _probability("epsilon", param)
    elif param < 0:
        raise ValueError(f"c={param!r} should be >= 0.")
    n_arms = _positive_int("n_arms", n_arms, 2)
    n_steps, n_runs = _positive_int("n_steps", n_steps), _positive_int("n_runs", n_runs)
    rng = np.random.default_rng(seed)
    q_true = rng.standard_normal((n_runs, n_arms))
    noise = np.random.default_rng(rng.integers(2**32))   # the reward noise, the same stream for every method
    choice = np.random.default_rng(rng.integers(2**32))  # the agents' own randomness
    best = q_true.max(axis=1)
    estimates, counts = np.zeros((n_runs, n_arms)), np.zeros((n_runs, n_arms))
    runs = np.arange(n_runs)
    regret = np.empty((n_steps, n_runs))
    for t in range(1, n_steps + 1):
        if method == "epsilon":
            ties = estimates == estimates.max(axis=1, keepdims=True)
            greedy = np.argmax(ties * choice.random((n_runs, n_arms)), axis=1)  # uniform among the ties
            wander = choice.random(n_runs) < param
            action = np.where(wander, choice.integers(0, n_arms, n_runs), greedy)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = estimates + param * np.sqrt(np.log(t) / counts)
            untried = counts == 0
            action = np.where(untried.any(axis=1), np.argmax(untried, axis=1), np.argmax(bound, axis=1))
        r = q_true[runs, action] + noise.standard_normal(n_runs)
        counts[runs, action] += 1
        estimates[runs, action] += (r - estimates[runs, action]) / counts[runs, action]
        regret[t - 1] = best - q_true[runs, action]
    return np.cumsum(regret, axis=0).mean(axis=1)


def plot_regret(ax, epsilon=0.1, c=2.0, *, n_steps=1000, n_runs=200, seed=0):
    """Explorer panel: cumulative regret of epsilon-greedy (``epsilon``), greedy and UCB (``c``) agents.

    The title gives the regret of the epsilon-greedy agent after ``n_steps`` pulls, the number the tutorial asks
    for.

    Returns
    -------
    float
        The epsilon-greedy agent's mean regret after ``n_steps`` pulls.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> round(plot_regret(ax, 0.05), 1)   # the explorer's best epsilon
    198.1
    """
    steps = np.arange(1, n_steps + 1)
    eps = regret_curve("epsilon", epsilon, n_steps=n_steps, n_runs=n_runs, seed=seed)
    ax.plot(steps, eps, label=f"ε-greedy, ε = {epsilon:g}", **style(0))
    ax.plot(steps, regret_curve("epsilon", 0.0, n_steps=n_steps, n_runs=n_runs, seed=seed),
            label="greedy (ε = 0)", **style(1))
    ax.plot(steps, regret_curve("ucb", c, n_steps=n_steps, n_runs=n_runs, seed=seed), label=f"UCB, c = {c:g}",
            **style(2))
    ax.set_xlabel("step (pulls of an arm)")
    ax.set_ylabel("cumulative regret (reward units)")
    ax.set_title(f"ε = {epsilon:g}: regret after {n_steps} pulls = {eps[-1]:.1f}", fontsize=10)
    ax.legend(fontsize=8)
    return float(eps[-1])
