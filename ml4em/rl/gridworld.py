"""A small grid world and tabular Q-learning.

The agent walks on a grid of cells: ``S`` start, ``.`` floor, ``#`` wall (cannot be entered), ``X`` pit (reward
-1, the episode ends), ``G`` goal (reward +1, the episode ends). Actions 0, 1, 2, 3 move up, right, down, left;
with probability ``slip`` the move goes in a random direction instead. Moves into a wall or off the grid leave
the agent where it is. Every step costs ``step_reward``.

Q-learning (C. J. C. H. Watkins and P. Dayan, Mach. Learn. 8, 279 (1992), doi:10.1007/BF00992698) learns the
action values from experience, without the transition table; value iteration computes them from the table and
gives the known answer.

Used in: tutorials/10_reinforcement_learning.
"""

import gymnasium as gym
import numpy as np

from .bandit import epsilon_greedy

__all__ = ["GridWorld", "q_update", "q_learning", "value_iteration", "plot_gridworld", "DEFAULT_LAYOUT"]

#: The tutorial's grid: a short way to the goal past two pits, and a longer, safe one.
DEFAULT_LAYOUT = ("S...",
                  ".#.X",
                  "....",
                  "X..G")

_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
ACTION_NAMES = ("up", "right", "down", "left")


class GridWorld(gym.Env):
    """A grid world with the gymnasium API: ``reset(seed=...) -> (state, info)``, ``step(a) -> 5-tuple``.

    Parameters
    ----------
    layout : sequence of str
        Rows of the grid (see the module docstring); exactly one ``S``.
    slip : float in [0, 1), default 0
        Probability that a move goes in a uniformly random direction.
    step_reward : float, default -0.01
        Reward of every step that does not end in a pit or the goal.
    max_steps : int, default 100
        Episodes are truncated after this many steps.

    Attributes
    ----------
    n_states, n_actions : int
    transitions : list of list of list of (probability, next_state, reward, terminated)
        ``transitions[s][a]``, the model that :func:`value_iteration` uses.

    Examples
    --------
    >>> env = GridWorld()
    >>> state, info = env.reset(seed=0)
    >>> state, env.n_states, env.n_actions
    (0, 16, 4)
    >>> env.step(1)[:3]  # one step to the right
    (1, -0.01, False)
    """

    metadata = {"render_modes": []}

    def __init__(self, layout=DEFAULT_LAYOUT, *, slip=0.0, step_reward=-0.01, max_steps=100):
        rows = [str(r) for r in layout]
        if not rows or len({len(r) for r in rows}) != 1:
            raise ValueError(f"layout={layout!r} should be rows of equal length.")
        grid = np.array([list(r) for r in rows])
        if set(np.unique(grid)) - set("S.#XG") or int(np.sum(grid == "S")) != 1:
            raise ValueError(f"layout={layout!r} should use only S . # X G, with exactly one S.")
        if not 0.0 <= slip < 1.0:
            raise ValueError(f"slip={slip!r} should be a probability in [0, 1).")
        self.grid, self.slip, self.step_reward, self.max_steps = grid, float(slip), float(step_reward), int(max_steps)
        self.shape = grid.shape
        self.n_states, self.n_actions = grid.size, 4
        self.start = int(np.flatnonzero(grid.ravel() == "S")[0])
        self.observation_space = gym.spaces.Discrete(self.n_states)
        self.action_space = gym.spaces.Discrete(self.n_actions)
        self.transitions = [[self._outcomes(s, a) for a in range(4)] for s in range(self.n_states)]
        self.state, self.steps = self.start, 0

    def cell(self, state):
        """The character of ``state``'s cell."""
        return self.grid.flat[state]

    def is_terminal(self, state):
        """True for pits and the goal."""
        return self.cell(state) in "XG"

    def _move(self, state, direction):
        r, c = divmod(state, self.shape[1])
        nr, nc = r + _MOVES[direction][0], c + _MOVES[direction][1]
        if not (0 <= nr < self.shape[0] and 0 <= nc < self.shape[1]) or self.grid[nr, nc] == "#":
            return state
        return int(nr * self.shape[1] + nc)

    def _outcomes(self, state, action):
        if self.is_terminal(state) or self.cell(state) == "#":
            return [(1.0, state, 0.0, True)]
        probs = np.full(4, self.slip / 4)
        probs[action] += 1 - self.slip
        out = {}
        for d in range(4):
            if probs[d] > 0:
                s2 = self._move(state, d)
                out[s2] = out.get(s2, 0.0) + probs[d]
        return [(p, s2, {"X": -1.0, "G": 1.0}.get(self.cell(s2), self.step_reward), self.is_terminal(s2))
                for s2, p in out.items()]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state, self.steps = self.start, 0
        return self.state, {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action={action!r} should be one of 0 (up), 1 (right), 2 (down), 3 (left).")
        outcomes = self.transitions[self.state][int(action)]
        k = self.np_random.choice(len(outcomes), p=[o[0] for o in outcomes]) if len(outcomes) > 1 else 0
        _, self.state, reward, terminated = outcomes[k]
        self.steps += 1
        return self.state, reward, terminated, self.steps >= self.max_steps and not terminated, {}


def q_update(Q, state, action, reward, next_state, terminated, alpha, gamma):
    """One Q-learning update of ``Q[state, action]``, in place; returns the temporal-difference error.

    ``target = reward`` if the step ended the episode (there is no future to bootstrap from), otherwise
    ``reward + gamma * max(Q[next_state])``; then ``Q[state, action] += alpha * (target - Q[state, action])``.

    Parameters
    ----------
    Q : ndarray of shape (n_states, n_actions)
        Action values, changed in place.
    state, action, next_state : int
    reward : float
    terminated : bool
    alpha : float in (0, 1]
        Learning rate.
    gamma : float in [0, 1]
        Discount factor.

    Returns
    -------
    float
        The temporal-difference error ``target - Q[state, action]`` before the update.

    Examples
    --------
    >>> Q = np.zeros((3, 2)); Q[2] = [1.0, 3.0]
    >>> q_update(Q, 0, 1, 0.5, 2, False, 0.5, 0.9)
    3.2
    >>> float(Q[0, 1])
    1.6
    >>> q_update(Q, 1, 0, 1.0, 2, True, 1.0, 0.9), float(Q[1, 0])   # terminal: no bootstrap
    (1.0, 1.0)
    """
    target = reward if terminated else reward + gamma * np.max(Q[next_state])
    delta = float(target - Q[state, action])
    Q[state, action] += alpha * delta
    return delta


def q_learning(env, n_episodes, *, alpha=0.5, gamma=0.95, epsilon=0.1, seed=None, update=None):
    """Tabular Q-learning with epsilon-greedy exploration.

    Parameters
    ----------
    env : GridWorld (or a gymnasium env with Discrete spaces)
    n_episodes : int >= 1
    alpha, gamma, epsilon : float
        Learning rate, discount factor and exploration rate.
    seed : int, numpy.random.Generator or None
    update : callable, optional
        The update rule, with :func:`q_update`'s signature (default that function).

    Returns
    -------
    Q : ndarray of shape (n_states, n_actions)
    returns : ndarray of shape (n_episodes,)
        Undiscounted total reward of each episode.

    Examples
    --------
    >>> env = GridWorld()
    >>> Q, returns = q_learning(env, 300, epsilon=0.2, seed=0)
    >>> bool(abs(Q[env.start].max() - value_iteration(env, 0.95)[env.start].max()) < 0.05)
    True
    """
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"n_episodes={n_episodes!r} should be an integer >= 1.")
    update = q_update if update is None else update
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    returns = np.empty(n_episodes)
    for episode in range(n_episodes):
        state, _ = env.reset(seed=int(rng.integers(2**31)))
        total, done = 0.0, False
        while not done:
            action = epsilon_greedy(Q[state], epsilon, rng)
            next_state, reward, terminated, truncated, _ = env.step(action)
            update(Q, state, action, reward, next_state, terminated, alpha, gamma)
            total += reward
            state, done = next_state, terminated or truncated
        returns[episode] = total
    return Q, returns


def value_iteration(env, gamma=0.95, *, tol=1e-10, max_iter=10_000):
    """Optimal action values ``Q*`` of a :class:`GridWorld` from its transition table.

    Returns
    -------
    ndarray of shape (n_states, n_actions)

    Examples
    --------
    >>> Q = value_iteration(GridWorld(), 0.95)
    >>> round(float(Q[0].max()), 4)   # six steps to the goal, five of them cost 0.01
    0.7285
    """
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma={gamma!r} should be in [0, 1) for value iteration to converge.")
    Q = np.zeros((env.n_states, env.n_actions))
    for _ in range(max_iter):
        V = Q.max(axis=1)
        new = np.array([[sum(p * (r + (0.0 if done else gamma * V[s2])) for p, s2, r, done in env.transitions[s][a])
                         for a in range(env.n_actions)] for s in range(env.n_states)])
        if np.max(np.abs(new - Q)) < tol:
            return new
        Q = new
    return Q


def plot_gridworld(ax, env, Q, *, title=None):
    """Draw the grid, the value ``max_a Q`` of each cell and the greedy action as an arrow.

    Returns
    -------
    matplotlib.image.AxesImage

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> env = GridWorld()
    >>> plot_gridworld(ax, env, value_iteration(env)).get_array().shape
    (4, 4)
    """
    V = np.asarray(Q).max(axis=1).reshape(env.shape)
    shown = np.where(env.grid == "#", np.nan, V)
    im = ax.imshow(shown, cmap="viridis", vmin=-1, vmax=1)
    arrows = np.array([(0, -0.3), (0.3, 0), (0, 0.3), (-0.3, 0)])  # (dx, dy) on the image, y down
    for s in range(env.n_states):
        r, c = divmod(s, env.shape[1])
        ch = env.cell(s)
        if ch in "XG#":
            ax.text(c, r, {"X": "pit", "G": "goal", "#": "wall"}[ch], ha="center", va="center", fontsize=9,
                    color="white" if ch != "G" else "black")
            continue
        dx, dy = arrows[int(np.argmax(Q[s]))]
        ax.arrow(c - dx / 2, r - dy / 2, dx, dy, head_width=0.12, color="white", length_includes_head=True)
    ax.set_xticks(range(env.shape[1]))
    ax.set_yticks(range(env.shape[0]))
    ax.set_xlabel("column (cells)")
    ax.set_ylabel("row (cells)")
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=10)
    return im
