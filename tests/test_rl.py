"""ml4em.rl: bandit choices, Q-learning, the scanning environment and the REINFORCE policy, against known answers."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ml4em import rl


# -- bandit ----------------------------------------------------------------------------------------------------------

def test_epsilon_greedy_exploits_and_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    assert all(rl.epsilon_greedy([0.1, 0.9, 0.3], 0.0, rng) == 1 for _ in range(50))
    picks = np.bincount([rl.epsilon_greedy([1.0, 0.0, 1.0], 0.0, rng) for _ in range(2000)], minlength=3)
    assert picks[1] == 0
    assert abs(picks[0] / 2000 - 0.5) < 0.05  # binomial sd 0.011


def test_epsilon_greedy_explores_among_all_arms():
    rng = np.random.default_rng(1)
    picks = np.bincount([rl.epsilon_greedy([0.0, 1.0, 0.0, 0.0], 0.4, rng) for _ in range(5000)], minlength=4)
    # P(best) = 1 - 0.4 + 0.4 / 4 = 0.7; sd 0.006
    assert abs(picks[1] / 5000 - 0.7) < 0.03


def test_ucb_tries_every_arm_first_then_uses_the_bound():
    assert rl.ucb_action([5.0, 0.0, 0.0], [2, 0, 0], 3) == 1
    q, n, t, c = np.array([1.0, 0.8, 0.5]), np.array([10.0, 2.0, 1.0]), 14, 1.0
    assert rl.ucb_action(q, n, t, c) == int(np.argmax(q + c * np.sqrt(np.log(t) / n)))
    assert rl.ucb_action(q, n, t, 0.0) == 0
    assert rl.ucb_action([0.5, 0.5], [3, 3], 7) == 0  # tie: the lowest arm


@pytest.mark.parametrize("call, message", [
    (lambda: rl.epsilon_greedy([[0.0]], 0.1, np.random.default_rng()), "1-D array"),
    (lambda: rl.epsilon_greedy([0.0, 1.0], 1.5, np.random.default_rng()), "epsilon=1.5 should be a probability"),
    (lambda: rl.ucb_action([0.0, 1.0], [1, 1, 1], 3), "counts has shape"),
    (lambda: rl.ucb_action([0.0, 1.0], [1, 1], 0), "t=0"),
    (lambda: rl.ucb_action([0.0, 1.0], [1, 1], 3, c=-1), "c=-1"),
    (lambda: rl.regret_curve("softmax", 0.1), "method='softmax'"),
    (lambda: rl.regret_curve("epsilon", 0.1, n_steps=0), "n_steps=0"),
    (lambda: rl.run_bandit([0.0, 1.0], lambda q, n, t, rng: 5, 3), "choose returned arm 5"),
])
def test_bandit_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_regret_curves_order_the_agents():
    kw = {"n_steps": 1000, "n_runs": 200, "seed": 0}
    greedy, eps, ucb = (rl.regret_curve("epsilon", 0.0, **kw), rl.regret_curve("epsilon", 0.1, **kw),
                        rl.regret_curve("ucb", 1.0, **kw))
    assert np.all(np.diff(greedy) >= 0)  # regret only accumulates
    assert ucb[-1] < eps[-1] < greedy[-1]
    np.testing.assert_array_equal(eps, rl.regret_curve("epsilon", 0.1, **kw))  # seeded
    # over the first ten pulls UCB tries every arm once: regret = sum of the gaps, averaged over runs
    q = np.random.default_rng(0).standard_normal((200, 10))
    np.testing.assert_allclose(ucb[9], np.mean((q.max(axis=1, keepdims=True) - q).sum(axis=1)), rtol=1e-12)


def test_run_bandit_learns_the_best_arm():
    actions, rewards = rl.run_bandit([0.0, 2.0, -1.0], lambda q, n, t, rng: rl.ucb_action(q, n, t, 1.0), 500, seed=0)
    assert np.mean(actions[-200:] == 1) > 0.9
    assert rewards.shape == (500,)


# -- grid world ------------------------------------------------------------------------------------------------------

def test_value_iteration_gives_the_shortest_safe_path_value():
    grid = rl.GridWorld()
    Q = rl.value_iteration(grid, 0.95)
    # six moves to the goal: five cost 0.01, the sixth pays 1
    expected = -0.01 * sum(0.95**k for k in range(5)) + 0.95**5
    np.testing.assert_allclose(Q[grid.start].max(), expected, rtol=1e-9)  # converged to tol=1e-10


def test_q_update_bootstraps_except_at_the_end():
    Q = np.zeros((3, 2))
    Q[2] = [-1.0, -3.0]
    delta = rl.q_update(Q, 0, 1, 0.5, 2, False, 0.5, 0.9)
    assert delta == pytest.approx(0.5 - 0.9)
    assert Q[0, 1] == pytest.approx(0.5 * (0.5 - 0.9))
    delta = rl.q_update(Q, 1, 0, 1.0, 2, True, 1.0, 0.9)
    assert delta == 1.0 and Q[1, 0] == 1.0


def test_q_learning_approaches_value_iteration():
    grid = rl.GridWorld()
    Q, returns = rl.q_learning(grid, 400, alpha=0.5, gamma=0.95, epsilon=0.2, seed=0)
    optimal = rl.value_iteration(grid, 0.95)
    assert abs(Q[grid.start].max() - optimal[grid.start].max()) < 0.02  # deterministic world, well explored start
    assert returns.shape == (400,)


def test_gridworld_api_and_slip():
    grid = rl.GridWorld(slip=0.2)
    check_env(grid, skip_render_check=True)
    for s in range(grid.n_states):
        for a in range(4):
            assert sum(p for p, *_ in grid.transitions[s][a]) == pytest.approx(1.0)
    grid = rl.GridWorld()
    grid.reset(seed=0)
    assert grid.step(2)[0] == 4          # down from the start
    assert grid.step(1)[0] == 4          # right into the wall: no move


@pytest.mark.parametrize("kwargs, message", [
    ({"layout": ("S..", "..")}, "rows of equal length"),
    ({"layout": ("S.Z", "..G")}, "only S . # X G"),
    ({"slip": 1.0}, "slip=1.0"),
])
def test_gridworld_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rl.GridWorld(**kwargs)


def test_gridworld_step_rejects_bad_action():
    grid = rl.GridWorld()
    grid.reset(seed=0)
    with pytest.raises(ValueError, match="action=7"):
        grid.step(7)


# -- scanning environment --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def images():
    return rl.make_scan_images(8, seed=0)


def test_make_scan_images_is_seeded_and_scaled(images):
    clean, noisy = images
    assert clean.shape == noisy.shape == (8, 48, 48)
    np.testing.assert_array_equal(clean, rl.make_scan_images(8, seed=0)[0])
    assert not np.array_equal(clean, rl.make_scan_images(8, seed=1)[0])
    # support only: the background is background / scattering = 0.1 of the brightest column
    assert np.quantile(clean, 0.05) == pytest.approx(0.1, abs=0.01)
    assert 0.7 < clean.max() < 1.3
    with pytest.raises(ValueError, match="crystal_fraction"):
        rl.make_scan_images(1, crystal_fraction=(0.5, 0.2))


def test_reconstruct_known_cases():
    mask = np.zeros((6, 6), bool)
    mask[::2, ::2] = True
    np.testing.assert_allclose(rl.reconstruct(np.full((6, 6), 2.5), mask), 2.5, rtol=1e-12)  # a constant image
    values = np.arange(36.0).reshape(6, 6)
    out = rl.reconstruct(values, mask)
    np.testing.assert_array_equal(out[mask], values[mask])
    np.testing.assert_array_equal(rl.reconstruct(values, np.zeros((6, 6), bool)), 0.0)
    with pytest.raises(ValueError, match="mask has"):
        rl.reconstruct(values, mask[:3])
    assert rl.reconstruction_error(np.zeros(4), np.full(4, 2.0)) == 4.0


def test_scan_env_passes_gymnasium_checker(images):
    env = rl.ScanEnv(*images, patch=6, dose_fraction=0.25)
    check_env(env, skip_render_check=True)
    assert env.n_steps == 16 and env.action_space.n == 64


def test_scan_env_rewards_telescope_and_rescans_pay_nothing(images):
    env = rl.ScanEnv(*images, patch=12, dose_fraction=0.5)
    obs, info = env.reset(seed=0, options={"index": 3})
    assert info["index"] == 3 and obs.shape == (2, 48, 48) and not obs.any()
    rewards = []
    for action in (0, 5, 5, 10, 15, 2, 7, 8):
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
    assert rewards[2] == 0.0  # patch 5 again
    assert terminated and not truncated
    np.testing.assert_allclose(sum(rewards), 1 - info["error"] / env.initial_error, rtol=1e-9)
    assert obs[1].sum() == 7 * 144  # seven different patches of 12 x 12
    with pytest.raises(RuntimeError, match="budget"):
        env.step(1)


@pytest.mark.parametrize("kwargs, message", [
    ({"patch": 7}, "patch=7"),
    ({"dose_fraction": 0.0}, "dose_fraction=0.0"),
])
def test_scan_env_errors(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rl.ScanEnv(*images, **kwargs)


def test_scan_env_rejects_bad_action_and_index(images):
    env = rl.ScanEnv(*images)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action=64"):
        env.step(64)
    with pytest.raises(ValueError, match="index"):
        env.reset(options={"index": 8})
    with pytest.raises(ValueError, match="same shape"):
        rl.ScanEnv(images[0], images[1][:2])


# -- policy ----------------------------------------------------------------------------------------------------------

def test_patch_features_known_case():
    obs = np.zeros((2, 12, 12), np.float32)
    obs[0, :4, :4] = np.arange(16).reshape(4, 4)
    obs[1, :4, :4] = 1
    f = rl.patch_features(obs, 4)
    assert f.shape == (9, rl.N_FEATURES)
    np.testing.assert_allclose(f[0], [16 / 64, 7.5 / 0.25, np.arange(16).std() / 0.25, 0, 0], rtol=1e-12)
    np.testing.assert_allclose(f[8], [0, 0, 0, 1, np.hypot(8, 8) / 12 / 0.25], rtol=1e-12)


def test_policy_probabilities_and_returns_to_go():
    p = rl.policy_probabilities(np.array([1.0, 0.0]), np.array([[0.0, 1], [np.log(3), 5], [9, 9]]),
                                np.array([True, True, False]))
    np.testing.assert_allclose(p, [0.25, 0.75, 0.0], rtol=1e-12)
    with pytest.raises(ValueError, match="nothing left"):
        rl.policy_probabilities(np.ones(2), np.ones((3, 2)), np.zeros(3, bool))
    np.testing.assert_allclose(rl.returns_to_go([1.0, 2.0, 3.0], 1.0), [6, 5, 3])
    np.testing.assert_allclose(rl.returns_to_go([1.0, 2.0, 3.0], 0.0), [1, 2, 3])
    with pytest.raises(ValueError, match="gamma=2"):
        rl.returns_to_go([1.0], 2)


def test_reinforce_is_seeded(images):
    env = rl.ScanEnv(*images, patch=12, dose_fraction=0.25)
    a = rl.reinforce(env, 3, group_size=2, seed=0)
    b = rl.reinforce(env, 3, group_size=2, seed=0)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1].shape == (3,) and np.all((a[1] > 0) & (a[1] < 1))
    with pytest.raises(ValueError, match="group_size=1"):
        rl.reinforce(env, 3, group_size=1)


def test_spreading_the_dose_beats_random_at_equal_dose(images):
    # a hand-set policy that prefers patches far from the scan: the geometry the learned policy exploits
    env = rl.ScanEnv(*images, patch=6, dose_fraction=0.25)
    spread = rl.evaluate_scans(env, rl.softmax_policy(np.array([0, 0, 0, 3.0, 3.0]), 6), range(8))
    random = rl.evaluate_scans(env, rl.random_policy, range(8))
    assert spread.mean() < 0.97 * random.mean()


def test_raster_policies_scan_the_planned_patches(images):
    env = rl.ScanEnv(*images, patch=6, dose_fraction=0.25)
    for sparse, expected in ((True, np.round(np.linspace(0, 63, 16)).astype(int)), (False, np.arange(16))):
        rl.evaluate_scans(env, rl.raster_policy(env, sparse=sparse), [0])
        np.testing.assert_array_equal(np.flatnonzero(env.scanned), expected)
