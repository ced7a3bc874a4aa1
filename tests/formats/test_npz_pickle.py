"""0.5.0's pickled NPZ strings: every pickle numpy writes decodes, anything else is
refused with the reason, and nothing is ever unpickled."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from playnano.formats.npz._pickle import UnsafePickle, string_from_pickle


def u(text: str) -> bytes:
    """BINUNICODE: push a str."""
    raw = text.encode()
    return b"X" + len(raw).to_bytes(4, "little") + raw


@pytest.mark.parametrize("protocol", [3, 4, 5])  # numpy: 3 before 2.0, then 4
@pytest.mark.parametrize("value", ["height_trace", b'{"a": 1}', ""])
@pytest.mark.parametrize("wrap", [False, True])
def test_every_protocol_and_shape_numpy_writes(protocol, value, wrap) -> None:
    arr = np.empty(1 if wrap else (), dtype=object)
    arr[...] = value if not wrap else [value]
    if wrap:
        arr[0] = value
    assert string_from_pickle(pickle.dumps(arr, protocol=protocol)) == value


def refusal(payload: bytes) -> str:
    with pytest.raises(UnsafePickle) as err:
        string_from_pickle(payload)
    return str(err.value)


def test_a_global_outside_numpy_is_refused_by_name() -> None:
    assert refusal(b"\x80\x02cos\nsystem\n.") == "it refers to os.system"
    assert refusal(b"\x80\x04" + u("os") + u("system") + b"\x93.") == (
        "it refers to os.system"
    )


def test_a_call_needs_an_allowed_function_and_a_tuple() -> None:
    not_a_tuple = b"\x80\x02cnumpy\ndtype\n" + u("O8") + b"R."
    assert refusal(not_a_tuple) == "it calls something other than numpy's constructors"
    call_a_string = b"\x80\x02" + u("f") + b")R."
    assert refusal(call_a_string) == (
        "it calls something other than numpy's constructors"
    )


def test_state_only_on_a_numpy_call_and_only_once() -> None:
    assert refusal(b"\x80\x02" + u("a") + u("b") + b"b.") == (
        "it sets the state of something not built by numpy"
    )
    twice = b"\x80\x02cnumpy\ndtype\n" + u("O8") + b"\x85R" + u("s") + b"b" + u("t")
    assert refusal(twice + b"b.") == "it sets the state of something not built by numpy"


def test_other_opcodes_and_broken_pickles_are_refused() -> None:
    assert refusal(b"\x80\x02}.") == "it uses the EMPTY_DICT opcode"
    assert refusal(b"\x80\x02" + u("a") + u("b") + b"a.") == (
        "it appends to something that is not a list"
    )
    assert refusal(b"\x80\x02" + u("a") + b"(" + u("b") + b"e.") == (
        "it appends to something that is not a list"
    )
    assert refusal(b"\x80\x02h\x07.").startswith("malformed pickle (")


NOT_ONE_STRING = "it is not an object array holding one string"


def test_anything_but_one_string_is_refused() -> None:
    two = np.array(["a", "b"], dtype=object)
    number = np.array(5, dtype=object)
    text = np.array(["a"], dtype="U1")
    for arr in (two, number, text):
        assert refusal(pickle.dumps(arr, protocol=3)) == NOT_ONE_STRING
    assert refusal(b"\x80\x02" + u("a") + b".") == NOT_ONE_STRING
    extra = pickle.dumps(np.array("a", dtype=object), protocol=3)[:-1] + u("x") + b"."
    assert refusal(extra) == NOT_ONE_STRING


def test_memo_references_resolve() -> None:
    # the array's dtype is memoised and fetched again: BINPUT/BINGET, MEMOIZE
    for protocol in (3, 4):
        payload = pickle.dumps(np.array("same", dtype=object), protocol=protocol)
        assert string_from_pickle(payload) == "same"
