"""Whether a trained network handed in for an exercise is one of the package's: the look at Keras models.

A model cannot be read like a function, so the checks of the model exercises (tutorial 02's
``classifier``, tutorial 04's ``defect_model``) look for the marks that the package's builders leave:

- :func:`ml4em.nn.mlp` (and :func:`ml4em.nn.to_keras`, which calls it) names its Dense layers
  ``hidden_1``, ..., ``output``;
- :func:`ml4em.cnn.build_unet` and :func:`ml4em.cnn.build_defect_unet` name the model ``unet`` and
  ``defect_unet`` and start every convolution with He-normal weights;
- an estimator of the package that holds a trained network in ``model_`` (:class:`ml4em.cnn.DefectFinder`)
  shares its layers with any model made from that network, however it is renamed or wrapped.

Models inside models are looked into as well.
"""

import gc

from ._scan import Finding, PackageAnswers  # noqa: F401  (PackageAnswers: used by the doctest)

__all__ = ["find_package_network"]

_MLP = ("ml4em.nn.mlp", "ml4em.nn.to_keras")
_UNET = {"unet": "ml4em.cnn.build_unet", "defect_unet": "ml4em.cnn.build_defect_unet"}  # default model names


def _networks(model):
    """``model`` and every model nested in it (anything with ``layers``), each once."""
    stack, seen = [model], set()
    while stack:
        net = stack.pop()
        if id(net) in seen:
            continue
        seen.add(id(net))
        layers = getattr(net, "layers", None)
        if isinstance(layers, (list, tuple)):
            yield net
            stack.extend(layers)


def _layer_names(net):
    return [layer.name for layer in net.layers if getattr(layer, "weights", None)]


def _looks_like_mlp(net):
    names = _layer_names(net)
    return bool(names) and names == [f"hidden_{i}" for i in range(1, len(names))] + ["output"]


def _unet_builder(net, declared):
    """The declared U-Net builder whose marks ``net`` has (its default name, He-normal convolutions), or None."""
    builder = _UNET.get(getattr(net, "name", None))
    if builder not in declared:
        builder = next((b for b in _UNET.values() if b in declared), None) if builder else None
    convs = [layer for layer in net.layers if type(layer).__name__ == "Conv2D"]
    he_normal = bool(convs) and all(type(getattr(c, "kernel_initializer", None)).__name__ == "HeNormal"
                                    for c in convs)
    return builder if he_normal else None


def _estimator_layers(answers):
    """Ids of the layers of every trained network held (as ``model_``) by a live instance of a forbidden class."""
    if not answers.has_classes:
        return {}
    layers, names = {}, {}
    for obj in gc.get_objects():
        cls = type(obj)  # not obj.__class__: a dead weak proxy raises on that
        if cls not in names:
            names[cls] = answers.match(cls)
        if names[cls]:
            network = vars(obj).get("model_") if hasattr(obj, "__dict__") else None
            for layer in getattr(network, "layers", None) or ():
                layers[id(layer)] = names[cls]
    return layers


def find_package_network(model, answers):
    """Look for the marks of the package's builders and estimators in a Keras ``model``.

    Parameters
    ----------
    model : object
        What the student handed in; anything without ``layers`` is not looked at.
    answers : PackageAnswers
        The package's implementations of the exercise.

    Returns
    -------
    Finding or None

    Examples
    --------
    >>> class Layer:
    ...     def __init__(self, name):
    ...         self.name, self.weights = name, [0.0]
    >>> class Model:
    ...     layers = [Layer("hidden_1"), Layer("output")]
    >>> find_package_network(Model(), PackageAnswers(["ml4em.nn.mlp"]))
    Finding(name='ml4em.nn.mlp', how='was built by', via=())
    """
    if not isinstance(getattr(model, "layers", None), (list, tuple)):
        return None
    mlp = next((n for n in _MLP if n in answers.names), None)
    shared = _estimator_layers(answers)
    for net in _networks(model):
        if mlp and _looks_like_mlp(net):
            return Finding(mlp, "was built by", ())
        unet = _unet_builder(net, answers.names)
        if unet:
            return Finding(unet, "was built by", ())
        owner = next((shared[id(layer)] for layer in net.layers if id(layer) in shared), None)
        if owner:
            return Finding(owner, "holds the trained network of an", ())
    return None
