"""Linear-chain conditional random field: the ``CRF`` layer and its functions.

The functions keep the names, signatures and results of ``tfa.text`` (``crf_log_likelihood``,
``crf_sequence_score``, ``crf_log_norm``, ``crf_decode``, ``viterbi_decode``) and run on every Keras
backend. Scores are ``(batch, time, num_tags)`` unary potentials plus a ``(num_tags, num_tags)``
matrix ``transition_params[i, j]``, the score of tag ``j`` following tag ``i``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerazoo.registry import register


def _float_dtype(x):
    # Forward sums and log-sum-exps in float16 lose the likelihood quickly: use float32 at least.
    dtype = keras.backend.standardize_dtype(x.dtype)
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _sequence_mask(sequence_lengths, max_len, dtype):
    steps = ops.arange(max_len, dtype="int32")
    return ops.cast(steps[None, :] < ops.cast(sequence_lengths, "int32")[:, None], dtype)


def _scan(step, init, xs, reverse=False):
    """``ops.scan`` over the leading axis, unrolled in Python when that axis has a static length.

    Unrolled because the TensorFlow backend's scan is a ``while_loop`` whose gradient XLA refuses
    ("requires a fixed tensor list size"), and short tag sequences compile fine unrolled.
    """
    length = keras.tree.flatten(xs)[0].shape[0]
    if length is None:
        return ops.scan(step, init, xs, reverse=reverse)
    carry, outputs = init, [None] * length
    for t in reversed(range(length)) if reverse else range(length):
        carry, outputs[t] = step(carry, keras.tree.map_structure(lambda x, t=t: x[t], xs))
    if length == 0 or outputs[0] is None:
        return carry, None
    return carry, ops.stack(outputs, axis=0)


def crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params):
    """The unnormalized score of each tag sequence: its unary plus its transition scores.

    Args:
        inputs: ``(batch, time, num_tags)`` unary potentials.
        tag_indices: ``(batch, time)`` integer tags.
        sequence_lengths: ``(batch,)`` true lengths; steps beyond them are ignored.
        transition_params: ``(num_tags, num_tags)`` transition scores.

    Returns:
        ``(batch,)`` scores.

    Example:

    >>> import numpy as np
    >>> unary = np.array([[[1.0, 0.0], [0.0, 2.0]]], "float32")
    >>> trans = np.array([[0.0, 0.5], [0.0, 0.0]], "float32")
    >>> float(crf_sequence_score(unary, np.array([[0, 1]]), np.array([2]), trans)[0])
    3.5
    """
    inputs = ops.convert_to_tensor(inputs)
    dtype = _float_dtype(inputs)
    inputs = ops.cast(inputs, dtype)
    tags = ops.cast(tag_indices, "int32")
    transition_params = ops.cast(transition_params, dtype)
    mask = _sequence_mask(sequence_lengths, ops.shape(tags)[1], dtype)
    unary = ops.squeeze(ops.take_along_axis(inputs, tags[:, :, None], axis=2), axis=2)
    unary = ops.sum(unary * mask, axis=1)
    num_tags = ops.shape(transition_params)[0]
    pair = tags[:, :-1] * num_tags + tags[:, 1:]
    binary = ops.take(ops.reshape(transition_params, (-1,)), pair, axis=0)
    binary = ops.sum(binary * mask[:, 1:], axis=1)
    return unary + binary


def crf_log_norm(inputs, sequence_lengths, transition_params):
    """The log partition function of each sequence (forward algorithm).

    Args:
        inputs: ``(batch, time, num_tags)`` unary potentials.
        sequence_lengths: ``(batch,)`` true lengths; 0 gives 0.
        transition_params: ``(num_tags, num_tags)`` transition scores.

    Returns:
        ``(batch,)`` log normalizers.

    Example:

    >>> import numpy as np
    >>> unary = np.zeros((1, 3, 2), "float32")
    >>> round(float(crf_log_norm(unary, np.array([3]), np.zeros((2, 2), "float32"))[0]), 4)
    2.0794
    """
    inputs = ops.convert_to_tensor(inputs)
    dtype = _float_dtype(inputs)
    inputs = ops.cast(inputs, dtype)
    transition_params = ops.cast(transition_params, dtype)
    lengths = ops.cast(sequence_lengths, "int32")
    alphas = inputs[:, 0, :]
    if inputs.shape[1] is None or inputs.shape[1] > 1:
        steps = ops.arange(1, ops.shape(inputs)[1], dtype="int32")

        def step(alpha, xs):
            unary, t = xs
            new = unary + ops.logsumexp(alpha[:, :, None] + transition_params[None], axis=1)
            keep = (t < lengths)[:, None]
            return ops.where(keep, new, alpha), None

        time_major = ops.transpose(inputs[:, 1:, :], (1, 0, 2))
        alphas, _ = _scan(step, alphas, (time_major, steps))
    log_norm = ops.logsumexp(alphas, axis=1)
    return ops.where(lengths <= 0, ops.zeros_like(log_norm), log_norm)


def crf_log_likelihood(inputs, tag_indices, sequence_lengths, transition_params=None):
    """Log-likelihood of tag sequences under a linear-chain CRF, as ``tfa.text.crf_log_likelihood``.

    Args:
        inputs: ``(batch, time, num_tags)`` unary potentials.
        tag_indices: ``(batch, time)`` gold tags.
        sequence_lengths: ``(batch,)`` true lengths.
        transition_params: ``(num_tags, num_tags)`` transition scores; ``None`` draws a
            Glorot-uniform matrix (as tfa does; pass a trained one in practice). Defaults to
            ``None``.

    Returns:
        ``(log_likelihood, transition_params)``: ``(batch,)`` log-likelihoods (float32 at least)
        and the transition matrix used.

    Example:

    >>> import numpy as np
    >>> unary = np.zeros((1, 3, 2), "float32")
    >>> ll, _ = crf_log_likelihood(unary, np.array([[0, 1, 0]]), np.array([3]),
    ...                            np.zeros((2, 2), "float32"))
    >>> round(float(ll[0]), 4)  # log(1/8): 8 equally likely paths
    -2.0794
    """
    inputs = ops.convert_to_tensor(inputs)
    dtype = _float_dtype(inputs)
    if transition_params is None:
        num_tags = inputs.shape[2]
        transition_params = keras.initializers.GlorotUniform()((num_tags, num_tags), dtype=dtype)
    transition_params = ops.cast(transition_params, dtype)
    sequence_scores = crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params)
    log_norm = crf_log_norm(inputs, sequence_lengths, transition_params)
    return sequence_scores - log_norm, transition_params


def crf_decode(potentials, transition_params, sequence_length):
    """Viterbi decoding of a batch, as ``tfa.text.crf_decode``.

    Args:
        potentials: ``(batch, time, num_tags)`` unary potentials.
        transition_params: ``(num_tags, num_tags)`` transition scores.
        sequence_length: ``(batch,)`` true lengths; tags beyond them are 0.

    Returns:
        ``(decode_tags, best_score)``: ``(batch, time)`` int32 best paths and ``(batch,)`` their
        scores.

    Example:

    >>> import numpy as np
    >>> unary = np.array([[[2.0, 0.0], [0.0, 1.0], [0.0, 1.0]]], "float32")
    >>> trans = np.array([[0.0, -5.0], [0.0, 0.0]], "float32")  # 0 -> 1 is penalised
    >>> tags, score = crf_decode(unary, trans, np.array([3]))
    >>> keras.ops.convert_to_numpy(tags).tolist(), float(score[0])
    ([[0, 0, 0]], 2.0)
    """
    potentials = ops.convert_to_tensor(potentials)
    dtype = _float_dtype(potentials)
    potentials = ops.cast(potentials, dtype)
    transition_params = ops.cast(transition_params, dtype)
    lengths = ops.cast(sequence_length, "int32")
    num_tags = potentials.shape[2]
    if potentials.shape[1] == 1:
        tags = ops.cast(ops.argmax(potentials, axis=2), "int32")
        return tags, ops.max(potentials[:, 0, :], axis=1)
    steps = ops.arange(1, ops.shape(potentials)[1], dtype="int32")
    identity = ops.arange(num_tags, dtype="int32")[None, :]

    def forward(state, xs):
        unary, t = xs
        scores = state[:, :, None] + transition_params[None]
        new_state = unary + ops.max(scores, axis=1)
        pointers = ops.cast(ops.argmax(scores, axis=1), "int32")
        keep = (t < lengths)[:, None]
        # Past the end the state is carried and the pointer is the identity, so backtracking
        # from the last step walks straight back to the true last tag.
        pointers = ops.where(keep, pointers, identity)
        # Emitted as floats (exact below 2**24 tags): Keras's TensorFlow scan stacks its outputs
        # in the carry's dtype.
        return ops.where(keep, new_state, state), ops.cast(pointers, state.dtype)

    time_major = ops.transpose(potentials[:, 1:, :], (1, 0, 2))
    last_state, pointers = _scan(forward, potentials[:, 0, :], (time_major, steps))
    pointers = ops.cast(pointers, "int32")
    last_tag = ops.cast(ops.argmax(last_state, axis=1), "int32")

    def backward(tag, step_pointers):
        previous = ops.squeeze(ops.take_along_axis(step_pointers, tag[:, None], axis=1), axis=1)
        return previous, tag

    first_tag, later_tags = _scan(backward, last_tag, pointers, reverse=True)
    tags = ops.concatenate([first_tag[:, None], ops.transpose(later_tags, (1, 0))], axis=1)
    tags = tags * _sequence_mask(lengths, ops.shape(tags)[1], "int32")
    return tags, ops.max(last_state, axis=1)


def viterbi_decode(score, transition_params):
    """Viterbi decoding of one sequence in NumPy (outside any graph), as tfa.text.viterbi_decode.

    Args:
        score: ``(time, num_tags)`` unary potentials.
        transition_params: ``(num_tags, num_tags)`` transition scores.

    Returns:
        ``(viterbi, viterbi_score)``: the best path as a list of ints and its score.

    Example:

    >>> import numpy as np
    >>> viterbi_decode(np.array([[2.0, 0.0], [0.0, 1.0]]), np.zeros((2, 2)))
    ([0, 1], 3.0)
    """
    score = np.asarray(score)
    transition_params = np.asarray(transition_params)
    trellis = np.zeros_like(score)
    pointers = np.zeros(score.shape, dtype=np.int32)
    trellis[0] = score[0]
    for t in range(1, score.shape[0]):
        candidates = trellis[t - 1][:, None] + transition_params
        trellis[t] = score[t] + np.max(candidates, axis=0)
        pointers[t] = np.argmax(candidates, axis=0)
    path = [int(np.argmax(trellis[-1]))]
    for step_pointers in pointers[:0:-1]:
        path.append(int(step_pointers[path[-1]]))
    path.reverse()
    return path, float(np.max(trellis[-1]))


@register("layers", tfa="tfa.layers.CRF")
class CRF(keras.layers.Layer):
    """Linear-chain CRF layer: projects features to tag potentials and Viterbi-decodes them.

    Returns ``[decoded_sequence, potentials, sequence_length, chain_kernel]`` like
    ``tfa.layers.CRF``: the best tag path (int32), the unary potentials (a ``Dense`` projection of
    the inputs when ``use_kernel``, plus learned start/end scores when ``use_boundary``), the
    lengths (from the mask) and the transition matrix. Train it with
    ``-crf_log_likelihood(potentials, tags, sequence_length, chain_kernel)[0]`` (the CRF loss in
    ``kerazoo.losses``). Same arguments and weights (``chain_kernel``, ``left_boundary``,
    ``right_boundary`` and the inner ``Dense``) as tfa. A mask must be right-padded.

    Args:
        units: number of tags.
        chain_initializer: initializer of the transition matrix. Defaults to ``"orthogonal"``.
        use_boundary: learn scores of the first and last tag. Defaults to ``True``.
        boundary_initializer: initializer of those scores. Defaults to ``"zeros"``.
        use_kernel: project the inputs with a ``Dense(units)`` first; without it the inputs
            must already have ``units`` features. Defaults to ``True``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, time, features)``.
        mask: optional ``(batch, time)`` boolean mask, right padded.

    Example:

    >>> import numpy as np
    >>> crf = CRF(3)
    >>> tags, potentials, lengths, transitions = crf(np.random.rand(2, 4, 5).astype("float32"))
    >>> tuple(tags.shape), tuple(potentials.shape), tuple(lengths.shape), tuple(transitions.shape)
    ((2, 4), (2, 4, 3), (2,), (3, 3))

    Reference:
        Lafferty et al., "Conditional Random Fields: Probabilistic Models for Segmenting and
        Labeling Sequence Data", ICML 2001; Lample et al., "Neural Architectures for Named Entity
        Recognition", NAACL 2016.
    """

    def __init__(
        self,
        units: int,
        chain_initializer="orthogonal",
        use_boundary: bool = True,
        boundary_initializer="zeros",
        use_kernel: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units <= 0:
            raise ValueError(f"`units` must be positive. Received: units={units}")
        self.units = units
        self.chain_initializer = keras.initializers.get(chain_initializer)
        self.use_boundary = use_boundary
        self.boundary_initializer = keras.initializers.get(boundary_initializer)
        self.use_kernel = use_kernel
        self.supports_masking = True
        if use_kernel:
            self._dense_layer = keras.layers.Dense(units, dtype=self.dtype_policy, name="dense")

    def build(self, input_shape):
        self.chain_kernel = self.add_weight(
            shape=(self.units, self.units), name="chain_kernel", initializer=self.chain_initializer
        )
        if self.use_boundary:
            self.left_boundary = self.add_weight(
                shape=(self.units,), name="left_boundary", initializer=self.boundary_initializer
            )
            self.right_boundary = self.add_weight(
                shape=(self.units,), name="right_boundary", initializer=self.boundary_initializer
            )
        if self.use_kernel:
            self._dense_layer.build(input_shape)
        elif input_shape[-1] not in (None, self.units):
            raise ValueError(
                f"CRF(use_kernel=False) needs inputs with units={self.units} features. "
                f"Received: input_shape={input_shape}"
            )

    def call(self, inputs, mask=None):
        if mask is not None and len(mask.shape) != 2:
            raise ValueError(f"The CRF mask must be 2-D. Received: mask.shape={mask.shape}")
        potentials = self._dense_layer(inputs) if self.use_kernel else ops.cast(
            inputs, self.compute_dtype
        )
        batch_time = ops.shape(potentials)[:2]
        float_mask = (
            ops.ones(batch_time, dtype=potentials.dtype)
            if mask is None
            else ops.cast(mask, potentials.dtype)
        )
        if self.use_boundary:
            zeros = ops.zeros_like(float_mask[:, :1])
            starts = float_mask * (1.0 - ops.concatenate([zeros, float_mask[:, :-1]], axis=1))
            ends = float_mask * (1.0 - ops.concatenate([float_mask[:, 1:], zeros], axis=1))
            left = ops.cast(self.left_boundary, potentials.dtype)
            right = ops.cast(self.right_boundary, potentials.dtype)
            potentials = potentials + starts[:, :, None] * left + ends[:, :, None] * right
        sequence_length = ops.cast(ops.sum(float_mask, axis=1), "int32")
        decoded, _ = crf_decode(potentials, self.chain_kernel, sequence_length)
        return [decoded, potentials, sequence_length, ops.cast(self.chain_kernel, self.compute_dtype)]

    def compute_output_shape(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        return [(batch, time), (batch, time, self.units), (batch,), (self.units, self.units)]

    def compute_output_spec(self, inputs, mask=None):
        batch, time = inputs.shape[0], inputs.shape[1]
        dtype = self.compute_dtype
        return [
            keras.KerasTensor((batch, time), dtype="int32"),
            keras.KerasTensor((batch, time, self.units), dtype=dtype),
            keras.KerasTensor((batch,), dtype="int32"),
            keras.KerasTensor((self.units, self.units), dtype=dtype),
        ]

    def compute_mask(self, inputs, mask=None):
        return [mask, mask, None, None] if mask is not None else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "chain_initializer": keras.initializers.serialize(self.chain_initializer),
                "use_boundary": self.use_boundary,
                "boundary_initializer": keras.initializers.serialize(self.boundary_initializer),
                "use_kernel": self.use_kernel,
            }
        )
        return config
