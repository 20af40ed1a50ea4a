"""The JSON codec on its own: TF Serving's response shapes and the input checks."""

from __future__ import annotations

import numpy as np
import pytest

from kerazoo.serving.codec import decode_request, encode_response, to_feeds
from kerazoo.serving.errors import InvalidRequestError

pytestmark = pytest.mark.tf_only


@pytest.fixture
def specs():
    import tensorflow as tf

    return {"ids": tf.TensorSpec([None, 2], tf.int8), "text": tf.TensorSpec([None], tf.string)}


def test_named_rows_become_columns(specs):
    _, payload, row = decode_request(b'{"instances": [{"ids": [1, 2], "text": "a"},'
                                     b' {"ids": [3, 4], "text": {"b64": "/w=="}}]}')
    feeds = to_feeds(payload, row, specs)
    assert feeds["ids"].dtype == np.int8 and feeds["ids"].tolist() == [[1, 2], [3, 4]]
    assert feeds["text"].tolist() == [b"a", b"\xff"]


@pytest.mark.parametrize("body,fragment", [
    (b'{"instances": [{"ids": [1, 300], "text": "a"}]}', "outside the range of int8"),
    (b'{"instances": [{"ids": [1.5, 2], "text": "a"}]}', "expects int8"),
    (b'{"instances": [{"ids": [1, 2]}]}', "missing input(s) ['text']"),
    (b'{"instances": [{"ids": [1, 2], "text": "a"}, [1, 2]]}', "mixes named"),
    (b'{"inputs": [[1, 2]]}', "2 inputs"),
])
def test_input_errors_name_the_problem(specs, body, fragment):
    _, payload, row = decode_request(body)
    with pytest.raises(InvalidRequestError) as caught:
        to_feeds(payload, row, specs)
    assert fragment in str(caught.value)


def test_response_shapes_follow_tf_serving():
    one = {"scores": np.array([[0.1, 0.2]], np.float32)}
    assert encode_response(one, row_format=True) == {"predictions": [[0.1, 0.2]]}
    assert encode_response(one, row_format=False) == {"outputs": [[0.1, 0.2]]}
    two = {"scores": np.array([0.5], np.float32), "image_bytes": np.array([b"\xff\x00"], object),
           "name": np.array([b"cat"], object)}
    assert encode_response(two, row_format=True) == {
        "predictions": [{"image_bytes": {"b64": "/wA="}, "name": "cat", "scores": 0.5}]}
    ragged = {"scores": np.zeros((2, 3), np.float32), "count": np.array(2)}
    assert encode_response(ragged, row_format=False)["outputs"]["count"] == 2
    with pytest.raises(InvalidRequestError, match="batch dimension"):
        encode_response(ragged, row_format=True)
