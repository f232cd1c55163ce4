"""Memory of the replica method: an upper estimate, what is available, and the check before the training.

:func:`analyse_spectra` (and through it ``ml4em zlp``) and ``ml4em zlp-image`` call :func:`check_memory`
before any training, so that a replica count that cannot fit fails at once with the numbers, not after
minutes with a ``MemoryError``. The error, :class:`NotEnoughMemory`, keeps the numbers, so that each
caller names the argument as its user knows it (``n_replicas=`` in Python, ``--n-replicas`` on the
command line).

Used in: :func:`ml4em.eels.analyse_spectra`, ``ml4em zlp``, ``ml4em zlp-image``.
"""

__all__ = ["estimate_memory_bytes", "available_memory_bytes", "check_memory", "NotEnoughMemory", "format_bytes"]

#: Bytes counted for everything but the replicas (the interpreter, numpy, the spectra).
BASE_BYTES = 64 * 2**20

def estimate_memory_bytes(n_replicas, *, n_channels, n_train, shape):
    """An upper estimate of the memory that the replica analysis of single spectra needs, in bytes.

    Per replica, the larger of the training and the prediction, plus the
    results. Training (Levenberg-Marquardt): ``n_train x n_params`` Jacobian
    entries at 24 bytes (float64 while it is computed and weighted, float32
    as kept) and the normal matrix, ``min(n_train, n_params)^2`` entries at 8
    bytes (float32, and its damped copy). Prediction on every channel: the
    activations of every layer, 8 bytes per unit and channel. Results: 6
    float64 arrays of ``n_channels`` (ZLP, matched ZLP, subtracted spectrum,
    and the copies that the quantiles sort). Plus :data:`BASE_BYTES` for
    everything else. For 100 replicas on the synthetic spectra of the tests
    (641 channels, 152 training points) the per-replica part is about 30%
    above the peak that ``tracemalloc`` measures for ``ml4em zlp``.

    Parameters
    ----------
    n_replicas, n_channels, n_train : int
        Replicas, channels of the spectra and training points per replica
        (channels below dE1 and pseudo-data).
    shape : ml4em.eels.MLPShape

    Returns
    -------
    int

    Examples
    --------
    >>> from ml4em.eels import MLPShape
    >>> estimate_memory_bytes(100, n_channels=1981, n_train=300, shape=MLPShape(1, (10, 15, 5))) // 2**20
    315
    """
    training = 24 * n_train * shape.n_params + 8 * min(n_train, shape.n_params) ** 2
    prediction = 8 * n_channels * (shape.n_inputs + sum(shape.hidden) + 1)
    return int(n_replicas) * (max(training, prediction) + 48 * n_channels) + BASE_BYTES

def available_memory_bytes():
    """Memory this process may still use, in bytes, and where the number comes from; ``(None, "")`` if unknown.

    The lower of the container's limit less what is in use there
    (:mod:`ml4em._resources`) and the machine's available memory
    (``MemAvailable`` in ``/proc/meminfo``).
    """
    from .._resources import memory_limit_bytes, memory_used_bytes

    found = []
    limit = memory_limit_bytes()
    if limit is not None:
        found.append((max(limit - memory_used_bytes(), 0), "under this container's memory limit"))
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append((int(line.split()[1]) * 1024, "on this machine"))
    except (OSError, ValueError, IndexError):
        pass
    return min(found) if found else (None, "")

def format_bytes(n):
    """``n`` bytes in words, e.g. "1.15 MiB".

    Examples
    --------
    >>> format_bytes(1.15 * 2**20)
    '1.15 MiB'
    """
    unit, factor = next(((u, f) for u, f in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20))
                         if n >= f), ("KiB", 2**10))
    value = n / factor
    return f"{value:.3g} {unit}" if value < 1000 else f"{value:.0f} {unit}"

class NotEnoughMemory(ValueError):
    """A replica count whose memory is not available; :meth:`message` names the argument for its caller.

    Attributes
    ----------
    n_replicas, need, per_replica, free : int or float
        The count asked for, the estimate (bytes), its part per replica and the memory available.
    where : str
        Where ``free`` comes from ("on this machine", ...).
    sizes : dict
        ``n_train``, ``n_channels`` and ``n_params`` of the estimate.
    """

    def __init__(self, n_replicas, *, need, per_replica, free, where, sizes):
        self.n_replicas, self.need, self.per_replica = int(n_replicas), need, per_replica
        self.free, self.where, self.sizes = free, where, sizes
        super().__init__(self.message("n_replicas"))

    @property
    def most(self):
        """The most replicas that fit (at least 0)."""
        return max(int((self.free - BASE_BYTES) // self.per_replica), 0)

    def message(self, option):
        """The error text, naming the replica count as ``option`` (``"n_replicas"`` or ``"--n-replicas"``)."""
        name = (lambda n: f"{option} {n}") if option.startswith("-") else (lambda n: f"{option}={n}")
        fix = f"use at most {name(self.most)} here (100 is usual)" if self.most >= 2 else "free some memory first"
        s = self.sizes
        return (f"{name(self.n_replicas)}: the analysis would need about {format_bytes(self.need)} of memory (about "
                f"{format_bytes(self.per_replica)} per replica for {s['n_train']} training points, {s['n_channels']} "
                f"channels and {s['n_params']} network parameters), but {format_bytes(self.free)} is available "
                f"{self.where}; {fix}, or run on a machine with more memory.")

def check_memory(n_replicas, *, n_channels, n_train, shape):
    """Raise :class:`NotEnoughMemory` when :func:`estimate_memory_bytes` exceeds :func:`available_memory_bytes`.

    Parameters
    ----------
    n_replicas, n_channels, n_train, shape
        As :func:`estimate_memory_bytes`.
    """
    need = estimate_memory_bytes(n_replicas, n_channels=n_channels, n_train=n_train, shape=shape)
    free, where = available_memory_bytes()
    if free is None or need <= free:
        return
    per_replica = (need - estimate_memory_bytes(0, n_channels=n_channels, n_train=n_train, shape=shape)) / n_replicas
    raise NotEnoughMemory(n_replicas, need=need, per_replica=per_replica, free=free, where=where,
                          sizes={"n_train": int(n_train), "n_channels": int(n_channels), "n_params": shape.n_params})
