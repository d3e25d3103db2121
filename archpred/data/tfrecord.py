"""Read NAS-Bench-101's official tfrecord files without TensorFlow.

A tfrecord file is a sequence of ``uint64 length, uint32 crc, bytes, uint32 crc``. Each NB-101
record is JSON ``[hash, epochs, adjacency bits, ops, base64 ModelMetrics protobuf]``; the
protobuf is decoded with the ``protobuf`` package from a descriptor built here, the schema of
``nasbench/lib/model_metrics.proto``.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from archpred.errors import ArchpredError


def iter_records(path: str | Path) -> Iterator[bytes]:
    """Raw payloads of a tfrecord file."""
    with open(path, "rb") as f:
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise ArchpredError(f"{path}: truncated tfrecord header")
            (length,) = struct.unpack("<Q", header[:8])
            data = f.read(length)
            if len(data) < length or len(f.read(4)) < 4:
                raise ArchpredError(f"{path}: truncated tfrecord record")
            yield data


@cache
def _metrics_class() -> type:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    T = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="archpred_nb101_metrics.proto", package="archpred_nb101")
    ev = file.message_type.add(name="EvaluationData")
    for number, name in enumerate(
        ["current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy"], start=1
    ):
        ev.field.add(name=name, number=number, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    ev.field.add(name="checkpoint_path", number=6, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    mm = file.message_type.add(name="ModelMetrics")
    mm.field.add(
        name="evaluation_data",
        number=1,
        type=T.TYPE_MESSAGE,
        type_name=".archpred_nb101.EvaluationData",
        label=T.LABEL_REPEATED,
    )
    mm.field.add(name="trainable_parameters", number=2, type=T.TYPE_INT32, label=T.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("archpred_nb101.ModelMetrics"))


def iter_nb101(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of an NB-101 tfrecord: hash, epochs, adjacency, ops, params and per-run metrics
    of the final evaluation (train/validation/test accuracy, training time)."""
    cls = _metrics_class()
    for raw in iter_records(path):
        try:
            key, epochs, bits, ops, metrics_b64 = json.loads(raw.decode("utf-8"))
            metrics = cls.FromString(base64.b64decode(metrics_b64))
        except Exception as err:  # a foreign file: say which, in one line
            raise ArchpredError(f"{path}: not a NAS-Bench-101 tfrecord ({type(err).__name__}: {err})") from None
        n = int(len(bits) ** 0.5)
        final = metrics.evaluation_data[-1]
        yield {
            "hash": key,
            "epochs": int(epochs),
            "adjacency": [[int(bits[i * n + j]) for j in range(n)] for i in range(n)],
            "ops": ops.split(","),
            "params": int(metrics.trainable_parameters),
            "train_accuracy": final.train_accuracy,
            "validation_accuracy": final.validation_accuracy,
            "test_accuracy": final.test_accuracy,
            "training_time": final.training_time,
        }
