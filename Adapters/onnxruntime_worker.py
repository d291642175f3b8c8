#!/usr/bin/env python3
"""A softmax-audit worker for ONNX Runtime on CPU: the Softmax, LogSoftmax, ReduceLogSumExp, Sigmoid and
Softplus operators and SoftmaxCrossEntropyLoss (a batch of one row, reduction none), each a one-node model
built here with a dynamic length (one session per operator and type, reused for every row length: no
padding, no reshaping beyond SoftmaxCrossEntropyLoss's own [batch, classes] layout). ONNX Runtime's default
session options and its CPU execution provider are used. An operator ONNX Runtime has no CPU kernel for
in a type answers `unsupported`. ONNX Runtime here is inference only: no gradients. bfloat16 is not asked:
ONNX Runtime's Python API does not take bfloat16 NumPy arrays ("Numpy_type 256 can't be converted to
MLDataType"), so every bfloat16 request answers `unsupported`.

    softmax-audit external --name onnxruntime -- python3 Adapters/onnxruntime_worker.py
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from protocol import Unsupported, answer_version, serve

OPSET = 18

answer_version(
    f"onnxruntime {ort.__version__}, onnx {onnx.__version__}; CPUExecutionProvider, default session options, "
    f"opset {OPSET}")

TYPES = {"float64": TensorProto.DOUBLE, "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16,
         "bfloat16": TensorProto.BFLOAT16}
_sessions = {}


def session(op, dtype):
    """The cached session of a one-node model for `op` on rows of dtype, or Unsupported."""
    key = (op, dtype)
    if key not in _sessions:
        t = TYPES[dtype]
        if op == "SoftmaxCrossEntropyLoss":
            inputs = [helper.make_tensor_value_info("x", t, [1, "n"]),
                      helper.make_tensor_value_info("label", TensorProto.INT64, [1])]
            node = helper.make_node(op, ["x", "label"], ["y"], reduction="none")
            output = helper.make_tensor_value_info("y", t, [1])
        elif op == "ReduceLogSumExp":
            inputs = [helper.make_tensor_value_info("x", t, ["n"])]
            node = helper.make_node(op, ["x"], ["y"], keepdims=0)
            output = helper.make_tensor_value_info("y", t, [])
        else:
            inputs = [helper.make_tensor_value_info("x", t, ["n"])]
            node = helper.make_node(op, ["x"], ["y"], **({"axis": -1} if "Softmax" in op else {}))
            output = helper.make_tensor_value_info("y", t, ["n"])
        graph = helper.make_graph([node], op, inputs, [output])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        try:
            _sessions[key] = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        except Exception:  # no CPU kernel for this operator in this type
            _sessions[key] = None
    if _sessions[key] is None:
        raise Unsupported()
    return _sessions[key]


def run(op, x, **extra):
    x = np.asarray(x)
    dtype = str(x.dtype)
    if op == "SoftmaxCrossEntropyLoss":
        x = x[None, :]
    s = session(op, dtype)
    try:
        (y,) = s.run(None, {"x": x, **extra})
    except Exception as error:
        if "NOT_IMPLEMENTED" in str(error):  # no kernel for this type; any other error is the worker's problem
            raise Unsupported()
        raise
    return np.atleast_1d(np.asarray(y).astype(np.float64))


def softplus(x, o):
    """Softplus has no beta in ONNX: softplus(βx)/β as a user composes it, in the row's dtype."""
    beta = np.asarray(o.get("beta", 1), dtype=x.dtype)
    return np.asarray(run("Softplus", np.asarray(x * beta, dtype=x.dtype)), dtype=x.dtype) / beta


serve({
    "softmax": lambda x, t: run("Softmax", x),
    "log-softmax": lambda x, t: run("LogSoftmax", x),
    "logsumexp": lambda x, t: run("ReduceLogSumExp", x),
    "cross-entropy": lambda x, t: run("SoftmaxCrossEntropyLoss", x, label=np.array([t], dtype=np.int64)),
    "sigmoid": lambda x, t: run("Sigmoid", x),
    "softplus": lambda x, t, o={}: softplus(x, o),
}, formats=("double", "float", "float16"))
