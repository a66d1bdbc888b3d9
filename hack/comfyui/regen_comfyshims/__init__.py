"""Run ComfyUI 0.33.0's image-only nodes on Debian 12's python3-torch 1.13 (regen's
hack/comfyui-image.sh image, and a ComfyUI checkout run by hand).

Imported at interpreter start-up by regen-comfyshims.pth when REGEN_COMFYUI_STUBS is set
(the image sets it): the modules it names, comma-separated, become permissive stubs (any
attribute is a class that accepts anything), for packages that image-only nodes never use
(model loading, tokenizers, video, the asset database). A few names that 0.33.0 imports from
newer torch are back-ported below. Nothing in ComfyUI's own tree is edited.

Anything that loads a model (checkpoint, VAE, CLIP, upscale model) cannot work with these
stubs: a team's real ComfyUI image has the real packages and needs none of this.
"""

import importlib.abc
import importlib.machinery
import os
import sys
import types


class _Meta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _mk(name)

    def __getitem__(cls, key):
        return cls

    def __or__(cls, other):
        return cls

    def __ror__(cls, other):
        return cls

    def __iter__(cls):
        return iter(())


class _Stub(metaclass=_Meta):
    def __init__(self, *args, **kwargs):
        pass

    def __init_subclass__(cls, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _mk(name)()

    def __call__(self, *args, **kwargs):
        return _Stub()

    def __getitem__(self, key):
        return _Stub()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __or__(self, other):
        return self


def _mk(name):
    return _Meta(name, (_Stub,), {})


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _mk(name)


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers every import of a stubbed module or one of its submodules."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path, target=None):
        parts = fullname.split(".")
        if any(".".join(parts[:i]) in self.names for i in range(1, len(parts) + 1)):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        module.__version__ = "0.0.0-stub"
        return module

    def exec_module(self, module):
        pass


class _PatchVideo(importlib.abc.MetaPathFinder):
    """0.33.0's LoadImage decodes through PyAV first (VideoFromFile(...).get_components())
    and falls back to Pillow when that yields no frames. PyAV is stubbed (Debian's 10.0 lacks
    what 0.33.0 imports): make get_components yield no frames, so LoadImage takes its own
    Pillow path (8-bit PNGs decode to the same pixels as regen-executor's)."""

    TARGET = "comfy_api.latest._input_impl.video_types"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:
            return None
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)

            def get_components(self, *args, **kwargs):
                import torch

                return module.VideoComponents(images=torch.zeros((0, 1, 1, 3)), audio=None,
                                              frame_rate=module.Fraction(1), alpha=None)

            module.VideoFromFile.get_components = get_components

        spec.loader.exec_module = exec_module
        return spec


class _FakeDtype:
    """A dtype sentinel for names torch 1.13 lacks (compared and printed, never computed)."""

    itemsize = 1
    is_floating_point = True

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name


def _backport_torch():
    import torch

    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
                 "float8_e8m0fnu", "float4_e2m1fn_x2", "uint16", "uint32", "uint64"):
        if not hasattr(torch, name):
            setattr(torch, name, _FakeDtype(name))
    import torch.serialization

    if not hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals = lambda *args, **kwargs: None
    if not hasattr(torch.nn, "RMSNorm"):
        torch.nn.RMSNorm = _rms_norm_class(torch)
    if not hasattr(torch, "_dynamo"):
        dyn = types.ModuleType("torch._dynamo")
        dyn.disable = lambda fn=None, *args, **kwargs: fn if fn is not None else (lambda f: f)
        dyn.allow_in_graph = lambda f: f
        dyn.is_compiling = lambda: False
        torch._dynamo = dyn
        sys.modules["torch._dynamo"] = dyn
    if not hasattr(torch, "compiler"):
        torch.compiler = types.ModuleType("torch.compiler")
    if not hasattr(torch.compiler, "is_compiling"):
        torch.compiler.is_compiling = lambda: False
    if not hasattr(torch.compiler, "disable"):
        torch.compiler.disable = lambda fn=None, *args, **kwargs: fn if fn is not None else (lambda f: f)


def _rms_norm_class(torch):
    class RMSNorm(torch.nn.Module):
        def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
            super().__init__()
            if isinstance(normalized_shape, int):
                normalized_shape = (normalized_shape,)
            self.normalized_shape = tuple(normalized_shape)
            self.eps = eps
            self.elementwise_affine = elementwise_affine
            if elementwise_affine:
                self.weight = torch.nn.Parameter(torch.ones(self.normalized_shape, device=device, dtype=dtype))
            else:
                self.register_parameter("weight", None)

        def forward(self, x):
            eps = self.eps if self.eps is not None else torch.finfo(x.dtype).eps
            dims = tuple(range(-len(self.normalized_shape), 0))
            y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
            return y * self.weight if self.weight is not None else y

    return RMSNorm


class _AfterTorch(importlib.abc.MetaPathFinder):
    """Back-ports torch's names right after torch itself is imported: ComfyUI sets its
    environment before its own first `import torch` and warns when torch came first. It stays
    in place until torch really runs: importlib.util.find_spec("torch") (ComfyUI asks it
    before importing) also lands here, and that spec is thrown away."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "torch":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:
            return None
        original = spec.loader.exec_module
        finder = self

        def exec_module(module):
            original(module)
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            _backport_torch()

        spec.loader.exec_module = exec_module
        return spec


def install(names):
    """Stub the named modules, patch LoadImage's decoder, back-port torch's names."""
    sys.meta_path.insert(0, _StubFinder(names))
    sys.meta_path.insert(0, _PatchVideo())
    if "torch" in sys.modules:
        _backport_torch()
    else:
        sys.meta_path.insert(0, _AfterTorch())


def _stop_on_sigterm():
    """As a container's PID 1, Python ignores SIGTERM (the kernel drops a signal PID 1 has no
    handler for): the kubelet would wait out the whole grace period, then SIGKILL. Turn it
    into the Ctrl-C that ComfyUI's main loop handles ("Stopped server")."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


_names = [n for n in os.environ.get("REGEN_COMFYUI_STUBS", "").split(",") if n]
if _names:
    install(_names)
    if os.getpid() == 1:
        _stop_on_sigterm()
