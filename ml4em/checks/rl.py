"""Checks for tutorials/10_reinforcement_learning.

The bandit choices are checked by their defining frequencies over many draws (explicit tolerances) and by exact
cases; the Q-learning update and the returns-to-go against closed forms; the policy-training loop update by
update against the course's REINFORCE, which consumes the random generator in the same documented order. Each
check refuses the package's own implementation of its exercise (see :mod:`ml4em.checks._own`).
"""

import numpy as np

from ..rl import bandit as ref_bandit
from ..rl import gridworld as ref_grid
from ..rl import policy as ref_policy
from ..rl import scanning as ref_scan
from ._core import CheckFailure, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._core import call_student as _call
from ._own import answers

TUTORIAL = "10_reinforcement_learning"

#: The exploration rates and sizes of the tutorial's bandit explorer.
EXPLORER_EPSILONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
EXPLORER_SIZES = {"n_steps": 1000, "n_runs": 200, "seed": 0}

__all__ = ["check_epsilon_greedy", "check_ucb", "check_best_epsilon", "check_regret_at_best", "check_q_update",
           "check_returns_to_go", "check_train_policy", "EXPLORER_EPSILONS"]


def _arm(label, value, n):
    check_true(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
               f"`{label}` should return an integer arm; got {type(value).__name__} {value!r:.40}.",
               hint="np.argmax and rng.integers give integers; convert with int(...).")
    check_true(0 <= value < n, f"`{label}` returned arm {value}; the arms are 0 to {n - 1}.")
    return int(value)


@answers(TUTORIAL, "epsilon_greedy", "ml4em.rl.bandit.epsilon_greedy")
def check_epsilon_greedy(epsilon_greedy, *, estimates=(0.2, 1.3, -0.4, 0.9), epsilon=0.3, n_draws=4000, seed=0):
    """``epsilon_greedy(estimates, epsilon, rng)``: a random arm (any of them) with probability epsilon, otherwise
    the best-looking arm, ties broken uniformly at random."""
    check_callable(epsilon_greedy, "epsilon_greedy")
    q = np.asarray(estimates, dtype=float)
    n, best = q.size, int(np.argmax(q))
    label = "epsilon_greedy(estimates, epsilon, rng)"
    q0 = q.copy()
    picks = [_arm(label, _call("epsilon_greedy", epsilon_greedy, q, 0.0, np.random.default_rng(seed + i)), n)
             for i in range(20)]
    check_true(np.array_equal(q, q0), "`epsilon_greedy` changed `estimates`; only read them.")
    check_true(all(p == best for p in picks), f"with epsilon = 0 the agent must always exploit: estimates "
               f"{q.tolist()} should give arm {best}; got {sorted(set(picks))}.",
               hint="exploit = the arm with the LARGEST estimate (np.argmax or np.flatnonzero(q == q.max())).")
    rng_a, rng_b = np.random.default_rng(seed + 50), np.random.default_rng(seed + 50)
    a = [epsilon_greedy(q, 0.5, rng_a) for _ in range(30)]
    b = [epsilon_greedy(q, 0.5, rng_b) for _ in range(30)]
    check_true(a == b, "`epsilon_greedy` gave different arms for two generators with the same seed.",
               hint="draw every random number from the `rng` argument, not from np.random.")
    # ties: the two best arms equally often (binomial sd 0.011 at 2000 draws), the others never
    tied = q.copy()
    second = int(np.argsort(q)[-2])
    tied[second] = tied[best]
    rng = np.random.default_rng(seed + 1)
    counts = np.bincount([_arm(label, epsilon_greedy(tied, 0.0, rng), n) for _ in range(n_draws // 2)], minlength=n)
    share = counts[best] / counts.sum()
    check_true(counts[best] + counts[second] == counts.sum() and abs(share - 0.5) < 0.06,
               f"with epsilon = 0 and two arms tied for best ({best} and {second}, estimates {tied.tolist()}), each "
               f"should be chosen half of the time; got choice counts {counts.tolist()}.",
               hint="np.argmax always returns the first maximum; pick uniformly among all maxima, "
                    "e.g. rng.choice(np.flatnonzero(q == q.max())).")
    rng = np.random.default_rng(seed + 2)
    counts = np.bincount([_arm(label, epsilon_greedy(q, 1.0, rng), n) for _ in range(n_draws)], minlength=n)
    # uniform: sd sqrt(p(1-p)/N) ~ 0.007 at 4000 draws
    check_true(np.all(np.abs(counts / n_draws - 1 / n) < 0.035),
               f"with epsilon = 1 every arm should be chosen equally often (1/{n}); got frequencies "
               f"{np.round(counts / n_draws, 3).tolist()}.",
               hint="explore = an arm drawn uniformly among ALL arms, rng.integers(n_arms).")
    rng = np.random.default_rng(seed + 3)
    counts = np.bincount([_arm(label, epsilon_greedy(q, epsilon, rng), n) for _ in range(n_draws)], minlength=n)
    expected = 1 - epsilon + epsilon / n
    check_true(abs(counts[best] / n_draws - expected) < 0.03,
               f"with epsilon = {epsilon} and {n} arms the best-looking arm should be chosen with probability "
               f"1 - epsilon + epsilon / n = {expected:.3f}; got {counts[best] / n_draws:.3f}.",
               hint="explore with probability epsilon (rng.random() < epsilon), and then draw among all arms, "
                    "the best one included." if counts[best] / n_draws < expected else
               "explore with probability epsilon: rng.random() < epsilon.")
    others = np.delete(counts, best) / n_draws
    check_true(np.all(np.abs(others - epsilon / n) < 0.025),
               f"each other arm should be chosen with probability epsilon / n = {epsilon / n:.3f}; got "
               f"{np.round(others, 3).tolist()}.", hint="when exploring, draw the arm uniformly.")


def _ucb_expected(q, n, t, c):
    untried = np.flatnonzero(n == 0)
    return int(untried[0]) if untried.size else int(np.argmax(q + c * np.sqrt(np.log(t) / n)))


@answers(TUTORIAL, "ucb_action", "ml4em.rl.bandit.ucb_action")
def check_ucb(ucb_action, *, n_arms=5, n_cases=40, seed=0):
    """``ucb_action(estimates, counts, t, c)``: the lowest untried arm, else argmax of Q + c sqrt(ln t / N)."""
    check_callable(ucb_action, "ucb_action")
    label = "ucb_action(estimates, counts, t, c)"
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 1, n_arms)
    counts = np.zeros(n_arms)
    got = _arm(label, _call("ucb_action", ucb_action, q.copy(), counts.copy(), 1, 2.0), n_arms)
    check_true(got == 0, f"no arm has been pulled yet (counts all 0), so the first untried arm, 0, should be "
               f"chosen; got {got}.", hint="pull every untried arm once first, lowest index first.")
    counts = rng.integers(1, 20, n_arms).astype(float)
    gap = [1, n_arms - 1]
    counts[gap] = 0
    q[gap] = -5.0
    got = _arm(label, _call("ucb_action", ucb_action, q.copy(), counts.copy(), int(counts.sum()) + 1, 2.0), n_arms)
    check_true(got == 1, f"arms {gap} have never been pulled (counts {counts.astype(int).tolist()}); the lowest of "
               f"them, 1, should come first, whatever the estimates; got {got}.",
               hint="look for counts == 0 before computing the bound (it would divide by zero).")
    got = _arm(label, ucb_action(np.full(n_arms, 0.5), np.full(n_arms, 3.0), 16, 1.0), n_arms)
    check_true(got == 0, f"with equal estimates and counts all arms tie; the lowest one, 0, should be chosen; got "
               f"{got}.", hint="np.argmax returns the first maximum.")
    for case in range(n_cases):
        q = rng.normal(0, 1, n_arms)
        counts = rng.integers(1, 30, n_arms).astype(float)
        t = int(counts.sum()) + 1
        c = float(rng.choice([0.0, 0.5, 1.0, 2.0, 4.0]))
        q0, n0 = q.copy(), counts.copy()
        got = _arm(label, _call("ucb_action", ucb_action, q, counts, t, c), n_arms)
        check_true(np.array_equal(q, q0) and np.array_equal(counts, n0),
                   "`ucb_action` changed `estimates` or `counts`; only read them.")
        want = _ucb_expected(q, counts, t, c)
        if got != want:
            bound = q + c * np.sqrt(np.log(t) / counts)
            raise CheckFailure(
                f"with estimates {np.round(q, 3).tolist()}, counts {counts.astype(int).tolist()}, t = {t} and "
                f"c = {c}, the upper bounds Q + c sqrt(ln t / N) are {np.round(bound, 3).tolist()}, so arm {want} "
                f"should be chosen; got {got}."
                + ("\nHint: with c = 0 UCB is greedy: the largest estimate." if c == 0 else
                   "\nHint: use the natural logarithm np.log(t), the square root, and divide by each arm's count."))


def _explorer_regrets():
    return np.array([ref_bandit.regret_curve("epsilon", e, **EXPLORER_SIZES)[-1] for e in EXPLORER_EPSILONS])


@answers(TUTORIAL, "best_epsilon", "ml4em.rl.bandit.regret_curve", student=())
def check_best_epsilon(best_epsilon):
    """``best_epsilon``: the explorer's exploration rate with the lowest regret after 1000 pulls."""
    value = check_scalar("best_epsilon", best_epsilon)
    check_true(any(np.isclose(value, e) for e in EXPLORER_EPSILONS),
               f"`best_epsilon` should be one of the explorer's values {list(EXPLORER_EPSILONS)}; got {value}.")
    regrets = _explorer_regrets()
    best = EXPLORER_EPSILONS[int(np.argmin(regrets))]
    mine = regrets[int(np.argmin(np.abs(np.asarray(EXPLORER_EPSILONS) - value)))]
    check_true(np.isclose(value, best), f"with epsilon = {value:g} the regret after 1000 pulls is {mine:.1f}; "
               f"another value of the explorer gives less.",
               hint="move the epsilon slider through all its values and compare the numbers in the panel titles; "
                    "too little exploration locks onto a wrong arm, too much keeps pulling bad arms.")


@answers(TUTORIAL, "regret_at_best", "ml4em.rl.bandit.regret_curve", student=())
def check_regret_at_best(regret_at_best):
    """``regret_at_best``: the regret after 1000 pulls at the best epsilon, as the explorer's title shows it (to
    0.05, the rounding of its one decimal)."""
    value = check_scalar("regret_at_best", regret_at_best)
    want = float(_explorer_regrets().min())
    check_close("regret_at_best", value, want, rtol=0.0, atol=0.0501,
                hint="read the regret after 1000 pulls in the title of the panel with the best epsilon (one decimal).")


def _q_case(rng, n_states=6, n_actions=3):
    return rng.normal(0, 1, (n_states, n_actions))


@answers(TUTORIAL, "q_update", "ml4em.rl.gridworld.q_update")
def check_q_update(q_update, *, alpha=0.5, gamma=0.9, seed=0, n_episodes=300):
    """``q_update(Q, state, action, reward, next_state, terminated, alpha, gamma)``: in place, returns the TD error;
    no bootstrap when ``terminated``. Then Q-learning with it must find the grid world's optimal values."""
    check_callable(q_update, "q_update")
    rng = np.random.default_rng(seed)
    label = "q_update(Q, state, action, reward, next_state, terminated, alpha, gamma)"
    for terminated in (False, True, False):
        Q = _q_case(rng)
        Q[4] = rng.normal(-2, 0.3, Q.shape[1])  # all negative: max, not max of |Q|, and not 0
        s, a, s2, r = 1, 2, 4, float(rng.normal())
        before = Q.copy()
        delta = _call("q_update", q_update, Q, s, a, r, s2, terminated, alpha, gamma)
        target = r if terminated else r + gamma * before[s2].max()
        want_delta = target - before[s, a]
        expected = before.copy()
        expected[s, a] += alpha * want_delta
        check_true(not np.array_equal(Q, before) or want_delta == 0,
                   f"`{label}` did not change Q; update Q[state, action] in place (Q[state, action] += ...).")
        changed = ~np.isclose(Q, before)
        changed[s, a] = False
        check_true(not changed.any(), "`q_update` changed entries of Q other than Q[state, action].")
        case = "terminated=True (the episode ended: no future value)" if terminated else "terminated=False"
        check_close(f"Q[state, action] after `{label}` with {case}", Q[s, a], expected[s, a], rtol=1e-9, atol=1e-12,
                    hint=("when the episode has ended the target is the reward alone: do not add "
                          "gamma * max Q[next_state]." if terminated else
                          "target = reward + gamma * max over actions of Q[next_state]; "
                          "Q[s, a] += alpha * (target - Q[s, a])."))
        check_close(f"the value returned by `{label}` with {case} (the TD error target - Q[state, action], before "
                    "the update)", check_scalar("TD error", delta), want_delta, rtol=1e-9, atol=1e-12)
    # a self-loop: the target uses Q[next_state] before the update
    Q = _q_case(rng)
    before = Q.copy()
    q_update(Q, 3, 0, 0.7, 3, False, alpha, gamma)
    check_close("Q[3, 0] after a step from state 3 back to state 3", Q[3, 0],
                before[3, 0] + alpha * (0.7 + gamma * before[3].max() - before[3, 0]), rtol=1e-9,
                hint="compute the target from Q before changing it.")
    env = ref_grid.GridWorld()
    Q, _ = ref_grid.q_learning(env, n_episodes, alpha=alpha, gamma=0.95, epsilon=0.2, seed=seed, update=q_update)
    optimal = ref_grid.value_iteration(env, 0.95)
    start = env.start
    check_true(abs(Q[start].max() - optimal[start].max()) < 0.05,
               f"Q-learning with your `q_update` ({n_episodes} episodes on the grid world) reaches a value "
               f"{Q[start].max():.3f} at the start; the optimal value is {optimal[start].max():.3f}.",
               hint="check the terminal case: pits and the goal end the episode.")


@answers(TUTORIAL, "returns_to_go", "ml4em.rl.policy.returns_to_go")
def check_returns_to_go(returns_to_go, *, n_steps=12, seed=0):
    """``returns_to_go(rewards, gamma)``: G_t = sum_k gamma^(k-t) r_k over k >= t, for every t."""
    check_callable(returns_to_go, "returns_to_go")
    got = check_array("returns_to_go([1, 0, 2], 0.5)", _call("returns_to_go", returns_to_go, np.array([1.0, 0, 2]),
                                                                 0.5), shape=(3,))
    if np.isclose(got[-1], 3.0) and not np.isclose(got[0], 3.0):
        hint = "G_t sums the rewards from step t ON, not up to t."
    elif np.allclose(got, [3.0, 2.0, 2.0]):
        hint = "discount: the reward k steps ahead counts gamma**k times."
    else:
        hint = "G_2 = 2, G_1 = 0 + 0.5 * G_2 = 1, G_0 = 1 + 0.5 * G_1 = 1.5: go backwards from the last step."
    check_close("returns_to_go([1, 0, 2], 0.5)", got, [1.5, 1.0, 2.0], rtol=1e-9, hint=hint)
    rng = np.random.default_rng(seed)
    for gamma in (0.0, 1.0, float(rng.uniform(0.3, 0.95))):
        rewards = rng.normal(0, 1, n_steps)
        r0 = rewards.copy()
        got = check_array(f"returns_to_go(rewards, {gamma:.3g})", returns_to_go(rewards, gamma), shape=(n_steps,))
        check_true(np.array_equal(rewards, r0), "`returns_to_go` changed `rewards`; return a new array.")
        want = np.array([np.sum(rewards[t:] * gamma ** np.arange(n_steps - t)) for t in range(n_steps)])
        check_close(f"returns_to_go(rewards of {n_steps} steps, gamma={gamma:.3g})", got, want, rtol=1e-9,
                    atol=1e-12, hint={0.0: "with gamma = 0 each G_t is the reward r_t alone.",
                                      1.0: "with gamma = 1, G_t is the sum of the rewards from t to the end."}.get(
                                          gamma, "the reward k steps ahead counts gamma**k times."))
    one = check_array("returns_to_go([3.0], 0.9)", returns_to_go(np.array([3.0]), 0.9), shape=(1,))
    check_close("returns_to_go([3.0], 0.9)", one, [3.0])


class _RecordingEnv(ref_scan.ScanEnv):
    """A ScanEnv that notes the seed and the options of every reset."""

    def __init__(self, *args, **kwargs):
        self.resets = []
        super().__init__(*args, **kwargs)

    def reset(self, *, seed=None, options=None):
        self.resets.append((seed, dict(options or {}).get("index")))
        return super().reset(seed=seed, options=options)


def _small_env(seed, n_images=6, size=24, patch=6, dose_fraction=0.25):
    return _RecordingEnv(*ref_scan.make_scan_images(n_images, size=size, seed=seed), patch=patch,
                         dose_fraction=dose_fraction)


@answers(TUTORIAL, "train_policy", "ml4em.rl.policy.reinforce")
def check_train_policy(train_policy, *, n_updates=3, group_size=3, learning_rate=20.0, gamma=1.0, seed=0):
    """``train_policy(env, n_updates, *, group_size, learning_rate, gamma, seed)``: REINFORCE with the group-mean
    baseline, update by update the same as the course's (same draws from the generator, in the same order)."""
    check_callable(train_policy, "train_policy")
    env = _small_env(seed)
    label = (f"train_policy(env, {n_updates}, group_size={group_size}, learning_rate={learning_rate}, "
             f"gamma={gamma}, seed={seed})")
    result = _call("train_policy", train_policy, env, n_updates, group_size=group_size, learning_rate=learning_rate,
                   gamma=gamma, seed=seed)
    check_true(isinstance(result, tuple) and len(result) == 2,
               f"`{label}` should return a tuple (theta, returns); got {type(result).__name__}.")
    theta = check_array(f"{label}[0] (theta)", result[0], ndim=1)
    check_shape(f"{label}[0] (theta)", theta, (ref_policy.N_FEATURES,),
                hint="one weight per feature of rl.patch_features.")
    returns = check_array(f"{label}[1] (returns)", result[1], ndim=1)
    check_shape(f"{label}[1] (returns)", returns, (n_updates,), hint="one mean return per update.")
    reference = _small_env(seed)
    want_theta, want_returns = ref_policy.reinforce(reference, n_updates, group_size=group_size,
                                                    learning_rate=learning_rate, gamma=gamma, seed=seed)
    check_true(len(env.resets) == len(reference.resets),
               f"`{label}` started {len(env.resets)} episodes; {n_updates} updates of {group_size} episodes are "
               f"{len(reference.resets)}.", hint="one env.reset per episode, group_size episodes per update.")
    first = env.resets[:group_size]
    want_first = reference.resets[:group_size]
    check_true(first == want_first,
               f"the first update's episodes should start with env.reset(seed=..., options={{'index': ...}}) "
               f"(seed, index) = {want_first}; `{label}` used {first}.",
               hint="index = int(rng.integers(len(env.clean))) once per update, then for each episode "
                    "env.reset(seed=int(rng.integers(2**31)), options={'index': index}).")
    # the first update starts from theta = 0, so its returns depend only on the order of the random draws
    check_close(f"{label}[1][0], the mean undiscounted return of the first update's episodes", returns[0],
                want_returns[0], rtol=1e-6, atol=1e-9,
                hint="draw the image index first (index = int(rng.integers(len(env.clean)))), then for each episode "
                     "env.reset(seed=int(rng.integers(2**31)), options={'index': index}), and each action with "
                     "int(rng.choice(len(probs), p=probs)); the return of an episode is the sum of its rewards.")
    check_true(np.any(theta != 0), f"`{label}` returned theta = 0: the policy never changed.",
               hint="theta += learning_rate / group_size * sum over episodes and steps of advantage * grad log pi.")
    check_close(f"{label}[0], theta after {n_updates} updates", theta, want_theta, rtol=1e-6, atol=1e-9,
                hint="advantage = G[k, t] - mean over the group's episodes of G[:, t] (returns-to-go with gamma); "
                     "grad log pi = features[action] - probs @ features, with the features BEFORE the step; "
                     "theta starts at zero and is updated after every group.")
    check_close(f"{label}[1], the mean undiscounted return of each update's episodes", returns, want_returns,
                rtol=1e-6, atol=1e-9, hint="record the mean over the group of each episode's sum of rewards.")
