"""Open an NVIDIA network pickle without running any code from it.

NVIDIA's stylegan2-ada-pytorch and stylegan3 save networks with `torch_utils.persistence`: every network object is
pickled as a call `_reconstruct_persistent_obj(meta)`, where `meta` carries the Python source of the module that
defined the class, and NVIDIA's loader `exec`s that source when the file is opened. A model downloaded from the
internet would then be a program downloaded from the internet.

Here the pickle is read by an unpickler that resolves only an allow-list of globals, each replaced by a function of
ours that builds plain data: the persistence call becomes a `PersistentRecord` (class name, init arguments,
parameters, buffers, submodules; `module_src` is kept as text and only searched, never executed), tensors are
rebuilt from their storages with explicit bounds checks, and a storage's bytes are read by
`torch.load(weights_only=True)`, never by the full `torch.load` that torch's own `_load_from_bytes` calls. Any other
global (`os.system`, `builtins.eval`, `torch.load`, a class from elsewhere...) stops the load with an error that
names it, before anything it names is imported or called.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import torch

from training.errors import DataError

PERSISTENCE_GLOBAL = ("torch_utils.persistence", "_reconstruct_persistent_obj")


class RefusedGlobal(DataError):
    """The pickle asks for a global outside the allow-list; the message names it as `module.name`."""

    def __init__(self, module: str, name: str, hint: str = ""):
        self.global_name = f"{module}.{name}"
        hint = hint or ("NVIDIA network pickles never need it: this file is not a plain StyleGAN2 snapshot, or it "
                        "was tampered with")
        super().__init__(f"refused to load the global `{self.global_name}` from the pickle ({hint}); nothing from "
                         "the file was run")


# ---------------------------------------------------------------------------------------------------------------
# What a persistent network object becomes


@dataclass
class PersistentRecord:
    """One NVIDIA network object as plain data: what its class was called and what its `__dict__` held."""

    class_name: str
    module: str | None  # guessed from the module source by text search, e.g. "training.networks"
    version: Any
    module_src_sha256: str
    init_args: tuple = ()
    init_kwargs: dict = field(default_factory=dict)
    params: dict[str, torch.Tensor] = field(default_factory=dict)
    buffers: dict[str, torch.Tensor] = field(default_factory=dict)
    non_persistent: set = field(default_factory=set)
    submodules: dict[str, "PersistentRecord | None"] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)  # everything else in __dict__ (plain values)

    def sub(self, *path: str) -> "PersistentRecord | None":
        """The submodule at a dotted path (`rec.sub('synthesis', 'b4')`), or None where it is absent."""
        node: PersistentRecord | None = self
        for name in path:
            if node is None:
                return None
            node = node.submodules.get(name)
        return node

    def walk(self, prefix: str = ""):
        """(dotted name, record) for this record and every record below it."""
        yield prefix, self
        for name, child in self.submodules.items():
            if isinstance(child, PersistentRecord):
                yield from child.walk(f"{prefix}.{name}" if prefix else name)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Parameters and persistent buffers under torch's dotted names, as `module.state_dict()` would list them."""
        out: dict[str, torch.Tensor] = {}
        for name, record in self.walk():
            dot = f"{name}." if name else ""
            for key, value in record.params.items():
                if value is not None:
                    out[dot + key] = value
            for key, value in record.buffers.items():
                if value is not None and key not in record.non_persistent:
                    out[dot + key] = value
        return out


_MODULE_MARKERS = (
    # (module, text that only that module's source contains); the first match wins.
    ("training.networks_stylegan3", "class SynthesisInput"),
    ("training.networks_stylegan2", "fused_modconv_default"),
    ("training.networks", "skip_w_avg_update"),
    ("training.augment", "class AugmentPipe"),
)


def guess_module(module_src: str) -> str | None:
    """Which NVIDIA module the source text is, from markers only that module contains (text search, no exec)."""
    for module, marker in _MODULE_MARKERS:
        if marker in module_src:
            return module
    return None


class _PlainDict(dict):
    """Stands in for `dnnlib.util.EasyDict` (a dict with attribute access): the data is all we keep."""


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    if not isinstance(meta, dict) or not isinstance(meta.get("state"), dict):
        raise DataError("a persistent object in the pickle has no `state`: not an NVIDIA network pickle")
    if meta.get("type") != "class" or not isinstance(meta.get("class_name"), str):
        raise DataError(f"a persistent object in the pickle is of type {meta.get('type')!r}, not an NVIDIA class")
    src = meta.get("module_src")
    src = src if isinstance(src, str) else ""
    state = dict(meta["state"])
    record = PersistentRecord(class_name=meta["class_name"], module=guess_module(src), version=meta.get("version"),
                              module_src_sha256=hashlib.sha256(src.encode("utf-8", "replace")).hexdigest())
    record.init_args = tuple(state.pop("_init_args", ()) or ())
    record.init_kwargs = dict(state.pop("_init_kwargs", {}) or {})
    record.params = _tensor_dict(state.pop("_parameters", {}), record.class_name, "_parameters")
    record.buffers = _tensor_dict(state.pop("_buffers", {}), record.class_name, "_buffers")
    record.non_persistent = set(state.pop("_non_persistent_buffers_set", set()) or ())
    modules = state.pop("_modules", {}) or {}
    for name, child in modules.items():
        if child is not None and not isinstance(child, PersistentRecord):
            raise DataError(f"submodule {name!r} of {record.class_name} is not an NVIDIA network object")
    record.submodules = dict(modules)
    record.attrs = state
    return record


def _tensor_dict(value: Any, owner: str, what: str) -> dict[str, torch.Tensor]:
    if not isinstance(value, dict) or not all(v is None or isinstance(v, torch.Tensor) for v in value.values()):
        raise DataError(f"{owner}.{what} in the pickle does not hold tensors: not an NVIDIA network pickle")
    return dict(value)


# ---------------------------------------------------------------------------------------------------------------
# Tensors: storages through weights_only, views with bounds checks


def _load_storage_from_bytes(data: Any):
    """Replaces `torch.storage._load_from_bytes`, which calls a full torch.load on bytes taken from the pickle."""
    if not isinstance(data, (bytes, bytearray)):
        raise DataError("a tensor storage in the pickle is not a byte string")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage deprecation chatter
            storage = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except Exception as err:
        raise DataError(f"a tensor storage in the pickle cannot be read safely ({type(err).__name__}: "
                        f"{_first_line(err)})") from err
    if not isinstance(storage, (torch.storage.TypedStorage, torch.UntypedStorage)):
        raise DataError(f"a tensor storage in the pickle holds a {type(storage).__name__}, not a storage")
    return storage


def _view(storage: Any, offset: Any, size: Any, stride: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The tensor `storage[offset + sum(i * stride)]` of shape `size`, refusing views that reach past the storage."""
    if isinstance(storage, torch.storage.TypedStorage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage deprecation chatter
            dtype, untyped = storage.dtype, storage.untyped()
    elif isinstance(storage, torch.UntypedStorage) and isinstance(dtype, torch.dtype):
        untyped = storage
    else:
        raise DataError("a tensor in the pickle is not backed by a storage read from the file")
    ints = lambda v: isinstance(v, (tuple, list)) and all(isinstance(i, int) and i >= 0 for i in v)  # noqa: E731
    if not (isinstance(offset, int) and offset >= 0 and ints(size) and ints(stride) and len(size) == len(stride)):
        raise DataError("a tensor in the pickle has an invalid shape, stride or offset")
    itemsize = torch.empty(0, dtype=dtype).element_size()
    numel = untyped.nbytes() // itemsize
    if all(s > 0 for s in size):
        last = offset + sum((s - 1) * st for s, st in zip(size, stride))
        if last >= numel:
            raise DataError(f"a tensor in the pickle reaches element {last} of a storage of {numel}: the file is "
                            "corrupt")
    return torch.empty(0, dtype=dtype).set_(untyped, offset, tuple(size), tuple(stride))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None) -> torch.Tensor:
    _no_hooks(backward_hooks)
    return _view(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None) -> torch.Tensor:
    _no_hooks(backward_hooks)
    return _view(storage, storage_offset, size, stride, dtype)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None) -> torch.Tensor:
    """A Parameter is kept as its data: which dict it sits in (`_parameters`) already says what it is."""
    _no_hooks(backward_hooks)
    if not isinstance(data, torch.Tensor):
        raise DataError("a parameter in the pickle does not hold a tensor")
    return data


def _no_hooks(hooks: Any) -> None:
    if hooks:
        raise DataError("a tensor in the pickle carries backward hooks; NVIDIA snapshots never do")


# ---------------------------------------------------------------------------------------------------------------
# numpy scalars and arrays (NVIDIA stores gains such as np.sqrt(2) as numpy floats), without numpy's own unpickling


class _DtypeSpec:
    """`numpy.dtype(name)` as pickled; resolved only to numeric kinds, so object arrays cannot be smuggled in."""

    def __init__(self, name: Any = None, align: Any = False, copy: Any = False):
        if not isinstance(name, str):
            raise DataError("a numpy dtype in the pickle is not named by a string")
        self.name = name
        self.byteorder = "="

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.byteorder = state[1]

    def resolve(self) -> np.dtype:
        try:
            dtype = np.dtype(self.name)
        except TypeError as err:
            raise DataError(f"the pickle names an unknown numpy dtype {self.name!r}") from err
        if dtype.kind not in "biufc":
            raise DataError(f"the pickle holds numpy data of kind {dtype.kind!r} ({self.name}); only numbers are "
                            "accepted")
        return dtype.newbyteorder(self.byteorder) if self.byteorder in "<>" else dtype


def _numpy_scalar(dtype: Any, data: Any = None) -> int | float | complex | bool:
    if not isinstance(dtype, _DtypeSpec) or not isinstance(data, bytes):
        raise DataError("a numpy scalar in the pickle is not a plain number")
    resolved = dtype.resolve()
    if len(data) != resolved.itemsize:
        raise DataError("a numpy scalar in the pickle has the wrong number of bytes")
    return np.frombuffer(data, dtype=resolved)[0].item()


class _NdarrayType:
    """Stands in for `numpy.ndarray` as the first argument of numpy's `_reconstruct`."""


class _ArraySpec:
    """numpy's `_reconstruct(ndarray, ...)` result; `__setstate__` receives the real shape, dtype and bytes."""

    def __init__(self, subtype: Any = None, shape: Any = None, dtype: Any = None):
        if subtype is not _NdarrayType:
            raise DataError("a numpy array in the pickle is of a subclass, not a plain ndarray")
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], _DtypeSpec)
                and isinstance(state[4], bytes) and isinstance(state[1], tuple)):
            raise DataError("a numpy array in the pickle is not a plain array of numbers (only numbers are "
                            "accepted)")
        _, shape, dtype, fortran, raw = state
        resolved = dtype.resolve()
        count = int(np.prod(shape)) if shape else 1
        if len(raw) != count * resolved.itemsize:
            raise DataError("a numpy array in the pickle has the wrong number of bytes")
        self.array = np.frombuffer(raw, dtype=resolved).reshape(shape, order="F" if fortran else "C").copy()


# ---------------------------------------------------------------------------------------------------------------
# The allow-list


def _codecs_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """Protocol-2 pickles spell bytes as `_codecs.encode(str, 'latin1')`."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DataError("the pickle uses _codecs.encode for something other than bytes")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], Any] = {
    PERSISTENCE_GLOBAL: _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): _PlainDict,
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("numpy", "dtype"): _DtypeSpec,
    ("numpy", "ndarray"): _NdarrayType,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _ArraySpec,
    ("numpy._core.multiarray", "_reconstruct"): _ArraySpec,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("_codecs", "encode"): _codecs_encode,
}


# Protocol 0-2 pickles name Python 2 modules; the default find_class maps them, an override must do it itself.
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        module = _PY2_MODULES.get(module, module)
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module.startswith("dnnlib.tflib"):
            raise RefusedGlobal(module, name, "this is a TensorFlow-era StyleGAN pickle; likeness reads the PyTorch "
                                "pickles of stylegan2-ada-pytorch and stylegan3")
        raise RefusedGlobal(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise DataError("the pickle uses persistent ids (a torch.save file, not a network pickle)")


def restricted_load(stream: BinaryIO) -> Any:
    """Unpickle with the allow-list; returns plain containers, tensors and `PersistentRecord`s.

    Raises RefusedGlobal (naming the global) or DataError (truncated or malformed data); never runs file content.
    """
    try:
        obj = _RestrictedUnpickler(stream).load()
    except DataError:
        raise
    except (EOFError, pickle.UnpicklingError) as err:
        raise DataError(f"the pickle is truncated or corrupt ({type(err).__name__}: {_first_line(err)})") from err
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, RuntimeError, MemoryError) as err:
        raise DataError(f"the pickle is corrupt ({type(err).__name__}: {_first_line(err)})") from err
    return _finish(obj, {})


def _finish(obj: Any, memo: dict[int, Any]) -> Any:
    """Replace stand-ins by what they stand for: EasyDict -> dict, numpy arrays -> ndarray, recursively."""
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, _ArraySpec):
        if obj.array is None:
            raise DataError("a numpy array in the pickle has no data")
        result: Any = obj.array
    elif isinstance(obj, _DtypeSpec):
        result = obj.resolve()
    elif isinstance(obj, PersistentRecord):
        memo[key] = obj
        obj.init_args = tuple(_finish(v, memo) for v in obj.init_args)
        obj.init_kwargs = {k: _finish(v, memo) for k, v in obj.init_kwargs.items()}
        obj.attrs = {k: _finish(v, memo) for k, v in obj.attrs.items()}
        for child in obj.submodules.values():
            if child is not None:
                _finish(child, memo)
        return obj
    elif isinstance(obj, dict):
        result = type(obj)() if isinstance(obj, OrderedDict) else {}
        memo[key] = result
        for k, v in obj.items():
            result[_finish(k, memo)] = _finish(v, memo)
        return result
    elif isinstance(obj, (list, tuple)) and not isinstance(obj, torch.Size):
        items = [_finish(v, memo) for v in obj]
        result = items if isinstance(obj, list) else tuple(items)
    else:
        result = obj
    memo[key] = result
    return result


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no detail"
