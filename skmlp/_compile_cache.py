"""A per-machine cache of skmlp's compiled programs.

Compiling a small network's training epoch costs ~0.7 s on a 2-core CPU, as long as the whole
fit: without a cache every new process (a script, each joblib worker of a grid search) pays it
again. Here each program skmlp compiles is serialized to a file keyed by everything that
determines the executable (program, static spec, argument shapes and dtypes, JAX and jaxlib
versions, device, CPU features) and loaded in ~20 ms by the next process that needs it.

Only skmlp's own programs are cached; JAX's global configuration is never touched. A corrupt
or unreadable entry is ignored and rebuilt. Settings: ``set_compile_cache`` in a process, or the
environment (inherited by joblib workers): ``SKMLP_COMPILE_CACHE=0`` disables the cache,
``SKMLP_CACHE_DIR`` chooses its directory (default: ``$XDG_CACHE_HOME/skmlp`` or
``~/.cache/skmlp``).
"""

import functools
import hashlib
import os
import pickle
import platform
import tempfile
import warnings
from pathlib import Path

import jax

from ._version import __version__

_settings = {"enabled": None, "directory": None}


def set_compile_cache(enabled=None, directory=None):
    """Turn the persistent compile cache on or off, or move it, for this process.

    Parameters
    ----------
    enabled : bool or None, default=None
        False disables reading and writing cached programs; None leaves the setting as it is
        (by default, on unless the environment variable ``SKMLP_COMPILE_CACHE`` is ``0``).
    directory : str or path-like or None, default=None
        Where cached programs live; None leaves the setting as it is (by default,
        ``SKMLP_CACHE_DIR`` or a per-user cache directory).

    Notes
    -----
    Worker processes started by joblib do not see this call; set the environment variables
    ``SKMLP_COMPILE_CACHE`` and ``SKMLP_CACHE_DIR`` to configure them too.
    """
    if enabled is not None:
        _settings["enabled"] = bool(enabled)
    if directory is not None:
        _settings["directory"] = Path(directory)


def compile_cache_enabled():
    """Whether compiled programs are read from and written to disk."""
    if _settings["enabled"] is not None:
        return _settings["enabled"]
    return os.environ.get("SKMLP_COMPILE_CACHE", "1").lower() not in ("0", "false", "no", "off")


def compile_cache_dir():
    """The directory holding cached programs."""
    if _settings["directory"] is not None:
        return _settings["directory"]
    if os.environ.get("SKMLP_CACHE_DIR"):
        return Path(os.environ["SKMLP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skmlp"


@functools.lru_cache(maxsize=None)
def _machine_fingerprint(device):
    """What makes an executable valid here: versions, device, and the CPU's instruction set."""
    cpu_flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        pass
    import jaxlib

    return "|".join([__version__, jax.__version__, jaxlib.__version__, platform.machine(),
                     device.platform, device.device_kind, str(device.id),
                     hashlib.sha256(cpu_flags.encode()).hexdigest()[:16]])


def entry_path(name, signature, device):
    key = hashlib.sha256(f"{name}|{signature!r}|{_machine_fingerprint(device)}".encode())
    return compile_cache_dir() / f"{name}-{key.hexdigest()[:32]}.xla"


def load(path):
    """A cached executable, or None when absent, unreadable, corrupt or stale."""
    from jax.experimental.serialize_executable import deserialize_and_load

    try:
        with open(path, "rb") as f:
            payload, in_tree, out_tree = pickle.load(f)
        return deserialize_and_load(payload, in_tree, out_tree)
    except FileNotFoundError:
        return None
    except Exception:  # a corrupt or incompatible entry is rebuilt, never fatal
        return None


def store(path, compiled):
    """Write an executable atomically; a failure to write only costs the next process a compile."""
    from jax.experimental.serialize_executable import serialize

    try:
        blob = pickle.dumps(serialize(compiled))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except Exception as exc:  # read-only home, full disk, unserializable program
        warnings.warn(f"skmlp could not write its compile cache ({exc}); set "
                      f"SKMLP_CACHE_DIR to a writable directory or SKMLP_COMPILE_CACHE=0.",
                      RuntimeWarning, stacklevel=3)
