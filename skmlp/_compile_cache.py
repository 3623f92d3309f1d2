"""A per-machine cache of skmlp's compiled programs.

Compiling a small network's training epoch costs ~0.7 s on a 2-core CPU, as long as the whole
fit: without a cache every new process (a script, each joblib worker of a grid search) pays it
again. Here each program skmlp compiles is serialized to a file keyed by everything that
determines the executable (program, static spec, argument shapes and dtypes, skmlp's own source,
JAX and jaxlib versions, device, CPU features) and loaded in ~20 ms by the next process that
needs it.

Security model. A cached entry is native code: JAX's loader unpickles it, and JAX documents that
loading an untrusted executable can run arbitrary code. So nothing is loaded unless it is
provably this user's own:

- the directory is created owner-only (0700), and a directory or entry that another user owns,
  or that group or others may write, is refused with a warning (the fit then compiles in memory);
- every entry carries an HMAC-SHA256 tag under a per-user secret key (``key``, mode 0600, in the
  cache directory); the tag is checked before a single byte is unpickled, so a planted or
  altered file is ignored, never run;
- the tag also covers the entry's own cache key, and a loaded executable's input signature is
  compared with the call's, so an entry under the wrong name is rebuilt, never fatal.

The cache is bounded (``max_size``, least recently used entries go first). Settings:
``set_compile_cache`` in a process, or the environment (inherited by joblib workers):
``SKMLP_COMPILE_CACHE=0`` disables the cache, ``SKMLP_CACHE_DIR`` chooses its directory (default:
``$XDG_CACHE_HOME/skmlp`` or ``~/.cache/skmlp``), ``SKMLP_CACHE_MAX_MB`` its size bound.
"""

import contextlib
import functools
import hashlib
import hmac
import os
import pickle
import platform
import stat
import tempfile
import threading
import warnings
from pathlib import Path

from ._version import __version__

_DEFAULT_MAX_BYTES = 256 * 2**20
_MAGIC = b"skmlp-xla-v2\n"
_TAG_BYTES = 32
_ENTRY_SUFFIX = ".xla"

_settings = {"enabled": None, "directory": None, "max_size": None}
_refused: set = set()  # directories already warned about in this process


def set_compile_cache(enabled=None, directory=None, max_size=None):
    """Turn the persistent compile cache on or off, move it, or bound its size, for this process.

    The cache keeps each compiled training program on disk, so the first fit of a network
    shape compiles and later fits of that shape, in any process, load it instead.

    Parameters
    ----------
    enabled : bool or None, default=None
        False disables reading and writing cached programs; None leaves the setting as it is
        (by default, on unless the environment variable ``SKMLP_COMPILE_CACHE`` is ``0``).
    directory : str or path-like or None, default=None
        Where cached programs live; None leaves the setting as it is (by default,
        ``SKMLP_CACHE_DIR`` or a per-user cache directory).
    max_size : int or None, default=None
        Bound on the cache's size in bytes; the least recently used programs are removed past
        it. None leaves the setting as it is (by default ``SKMLP_CACHE_MAX_MB`` megabytes, or
        256 MB).

    See Also
    --------
    clear_compile_cache : Remove every cached program.
    compile_cache_enabled : Whether the cache is in use.
    compile_cache_dir : Where the cache lives.

    Notes
    -----
    Worker processes started by joblib do not see this call; set the environment variables
    ``SKMLP_COMPILE_CACHE``, ``SKMLP_CACHE_DIR`` and ``SKMLP_CACHE_MAX_MB`` to configure them too.

    Examples
    --------
    >>> import tempfile
    >>> import skmlp
    >>> skmlp.set_compile_cache(directory=tempfile.mkdtemp())
    >>> skmlp.compile_cache_enabled()
    True
    >>> skmlp.set_compile_cache(directory=skmlp.compile_cache_dir())  # leaves it as it is
    """
    wait_for_stores()  # entries being written go where they were meant to
    if enabled is not None:
        _settings["enabled"] = bool(enabled)
    if directory is not None:
        _settings["directory"] = Path(directory)
    if max_size is not None:
        if int(max_size) < 0:
            raise ValueError(f"max_size must be >= 0 bytes, got {max_size}.")
        _settings["max_size"] = int(max_size)


def compile_cache_enabled():
    """Whether compiled programs are read from and written to disk.

    The setting made with :func:`set_compile_cache`, else the environment variable
    ``SKMLP_COMPILE_CACHE`` (on unless it is ``0``, ``false``, ``no`` or ``off``).

    Returns
    -------
    enabled : bool
        True when fits read and write the compile cache.

    See Also
    --------
    set_compile_cache : Turn the cache on or off.

    Examples
    --------
    >>> import skmlp
    >>> isinstance(skmlp.compile_cache_enabled(), bool)
    True
    """
    if _settings["enabled"] is not None:
        return _settings["enabled"]
    return os.environ.get("SKMLP_COMPILE_CACHE", "1").lower() not in ("0", "false", "no", "off")


def compile_cache_dir():
    """The directory holding cached programs.

    The directory set with :func:`set_compile_cache`, else ``SKMLP_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/skmlp`` or ``~/.cache/skmlp``.

    Returns
    -------
    directory : pathlib.Path
        The cache directory (it may not exist before the first fit).

    See Also
    --------
    set_compile_cache : Move the cache.

    Examples
    --------
    >>> import skmlp
    >>> skmlp.compile_cache_dir().name != ""
    True
    """
    if _settings["directory"] is not None:
        return _settings["directory"]
    if os.environ.get("SKMLP_CACHE_DIR"):
        return Path(os.environ["SKMLP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skmlp"


def _max_size():
    if _settings["max_size"] is not None:
        return _settings["max_size"]
    try:
        return int(float(os.environ["SKMLP_CACHE_MAX_MB"]) * 2**20)
    except (KeyError, ValueError):
        return _DEFAULT_MAX_BYTES


_in_memory_clears: list = []  # what holds compiled programs in memory registers here


def on_clear(function):
    """Have ``clear_compile_cache`` call ``function`` to drop what it holds in memory (as
    equinox's ``_caches`` registry does); the cache itself knows no program."""
    _in_memory_clears.append(function)
    return function


def clear_compile_cache():
    """Remove every cached program, on disk and in this process.

    The next fit of each architecture compiles again. The per-user key stays.

    Returns
    -------
    n_removed : int
        The number of files removed from the cache directory.

    See Also
    --------
    set_compile_cache : Turn the cache off, move it or bound its size.

    Examples
    --------
    >>> import tempfile
    >>> import skmlp
    >>> skmlp.set_compile_cache(directory=tempfile.mkdtemp())
    >>> skmlp.clear_compile_cache()
    0
    """
    wait_for_stores()  # an entry being written now would outlive the clear
    for clear in _in_memory_clears:
        clear()
    removed = 0
    directory = compile_cache_dir()
    if directory.is_dir():
        for path in directory.iterdir():
            if path.suffix == _ENTRY_SUFFIX or path.name.startswith(".tmp-"):
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
    return removed


# ------------------------------------------------------------------ keys and fingerprints


@functools.lru_cache(maxsize=None)
def source_fingerprint():
    """A digest of skmlp's own source, once per process (about 1 ms): an edited file (an
    editable install, a patched activation) changes every key, so no stale program runs."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


@functools.lru_cache(maxsize=None)
def _machine_fingerprint(device):
    """What makes an executable valid here: versions, device, and the CPU's instruction set."""
    cpu_flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        pass
    import jax
    import jaxlib

    # the local device count decides how a model stack is sharded
    return "|".join([source_fingerprint(), jax.__version__, jaxlib.__version__,
                     platform.machine(), device.platform, device.device_kind, str(device.id),
                     str(jax.local_device_count()),
                     hashlib.sha256(cpu_flags.encode()).hexdigest()[:16]])


def entry_key(name, signature, device):
    """The full key of a program: what the entry's tag covers and its file name digests."""
    return f"{name}|{signature!r}|{_machine_fingerprint(device)}"


def entry_path(key):
    name = key.split("|", 1)[0]
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return compile_cache_dir() / f"{name}-{digest}{_ENTRY_SUFFIX}"


# ------------------------------------------------------------------ trust


def _owned_private(st):
    """Owned by this user and writable by nobody else (always true where there are no uids)."""
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _warn_once(directory, message):
    """Say once per directory and process why the cache can't work, and the fix."""
    if directory not in _refused:
        _refused.add(directory)
        warnings.warn(message + " skmlp compiles in memory meanwhile.", RuntimeWarning,
                      stacklevel=5)
    return None


def _refuse(directory, why):
    return _warn_once(
        directory,
        f"skmlp's compile cache directory {directory} {why}, so it is not used: a cached "
        f"program is native code and must be yours alone. Fix: `chmod 700 {directory}` if "
        f"you own it and trust its files, else remove it or point SKMLP_CACHE_DIR at a "
        f"directory of your own (or set SKMLP_COMPILE_CACHE=0).")


def _trusted_directory(create):
    """The cache directory if it is safe to use (created owner-only when ``create``)."""
    directory = compile_cache_dir()
    try:
        if create and not directory.exists():
            directory.parent.mkdir(parents=True, exist_ok=True)
            directory.mkdir(mode=0o700, exist_ok=True)
        st = directory.stat()
    except OSError:  # absent, or under a file: nothing to load; a store reports it
        if create:
            raise
        return None
    if not stat.S_ISDIR(st.st_mode):
        return _warn_once(
            directory, f"skmlp's compile cache directory {directory} is not a directory, so "
                       f"the cache is not used. Fix: point SKMLP_CACHE_DIR (or "
                       f"skmlp.set_compile_cache(directory=...)) at a directory, or set "
                       f"SKMLP_COMPILE_CACHE=0.")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return _refuse(directory, f"is owned by another user (uid {st.st_uid})")
    if not _owned_private(st):
        return _refuse(directory, "is writable by group or others "
                                  f"(mode {stat.filemode(st.st_mode)})")
    return directory


def _open_private(path, flags, mode=0o600):
    """A file descriptor for a file of this user's that nobody else may write, or None."""
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0), mode)
    if _owned_private(os.fstat(fd)):
        return fd
    os.close(fd)
    return None


def _secret_key(directory):
    """This user's 32-byte HMAC key, created once with mode 0600."""
    path = directory / "key"
    try:
        fd = _open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        if fd is not None:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
    except FileExistsError:
        pass
    fd = _open_private(path, os.O_RDONLY)
    if fd is None:
        return _refuse(directory, f"holds a key file ({path}) that is not private to you")
    with os.fdopen(fd, "rb") as f:
        key = f.read()
    if len(key) != 32:
        return _warn_once(
            directory, f"skmlp's compile cache key {path} holds {len(key)} bytes instead of "
                       f"32, so the cache is not used. Fix: delete that file (skmlp writes a "
                       f"new key; entries under the old one are recompiled).")
    return key


def _tag(secret, key, blob):
    return hmac.new(secret, key.encode() + b"\0" + blob, hashlib.sha256).digest()


# ------------------------------------------------------------------ entries


def load(key):
    """The cached executable for ``key``, or None when absent, untrusted, corrupt or stale.

    Nothing is unpickled before the entry's tag proves it was written by this user under
    this very key.
    """
    from jax.experimental.serialize_executable import deserialize_and_load

    directory = _trusted_directory(create=False)
    if directory is None:
        return None
    path = entry_path(key)
    try:
        fd = _open_private(path, os.O_RDONLY)
    except OSError:  # absent (the common case), or a link
        return None
    if fd is None:
        warnings.warn(f"skmlp ignored the cache entry {path}: it is not private to you.",
                      RuntimeWarning, stacklevel=4)
        return None
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    secret = _secret_key(directory)
    header = len(_MAGIC) + _TAG_BYTES
    if secret is None or not data.startswith(_MAGIC) or len(data) < header:
        return None
    tag, blob = data[len(_MAGIC):header], data[header:]
    if not hmac.compare_digest(tag, _tag(secret, key, blob)):
        return None  # planted, altered, or written under another key: rebuilt, never run
    try:
        payload, in_tree, out_tree = pickle.loads(blob)
        compiled = deserialize_and_load(payload, in_tree, out_tree)
    except Exception:  # written by an incompatible jax: rebuilt, never fatal
        return None
    try:
        os.utime(path)  # least-recently-used order for eviction
    except OSError:
        pass
    return compiled


# Entries being written on helper threads (``store_soon``), joined by ``wait_for_stores``.
_stores: list = []
_stores_lock = threading.Lock()


def store_soon(key, compiled):
    """``store`` on a helper thread. Serializing and writing a program (0.03 s for the digits
    epoch on a 2-core CPU) would otherwise come between its compile and its first epoch; the
    epochs hardly use the second core. A fit joins the writes before it returns
    (``wait_for_stores``), so that its entries are on disk once it has, and the interpreter
    joins them at exit."""
    thread = threading.Thread(target=store, args=(key, compiled), name="skmlp-cache-store")
    with _stores_lock:
        _stores.append(thread)
    thread.start()


def wait_for_stores():
    """Wait for every entry ``store_soon`` is writing."""
    with _stores_lock:
        threads = list(_stores)
        del _stores[:]
    for thread in threads:
        thread.join()


def store(key, compiled):
    """Write an executable atomically; a failure to write only costs the next process a compile."""
    from jax.experimental.serialize_executable import serialize

    try:
        directory = _trusted_directory(create=True)
        secret = _secret_key(directory) if directory is not None else None
        if secret is None:
            return
        blob = pickle.dumps(serialize(compiled))
        path = entry_path(key)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + _tag(secret, key, blob) + blob)
            os.replace(tmp, path)
        except BaseException:  # a full disk: no partial file is left behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _evict(directory, keep=path)
    except Exception as exc:  # read-only home, full disk, unserializable program
        _warn_once(compile_cache_dir(),
                   f"skmlp could not write its compile cache ({exc}). Fix: set "
                   f"SKMLP_CACHE_DIR to a writable directory with free space, or "
                   f"SKMLP_COMPILE_CACHE=0.")


def _evict(directory, keep):
    """Remove least recently used entries until the cache fits its bound."""
    entries = []
    for path in directory.glob("*" + _ENTRY_SUFFIX):
        try:
            st = path.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in entries)
    limit = _max_size()
    for _, size, path in sorted(entries):
        if total <= limit:
            break
        if path == keep:
            continue
        try:
            path.unlink()
            total -= size
        except OSError:
            pass
