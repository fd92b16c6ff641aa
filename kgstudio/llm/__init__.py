"""LLM backends (embedded llama.cpp, OpenAI-compatible servers) and model discovery."""

from kgstudio.llm.backend import Backend, ChatMessage, Completion
from kgstudio.llm.models import ModelInfo, default_model_path, discover_models, embedded_model_path, read_model_info

__all__ = [
    "Backend", "ChatMessage", "Completion", "ModelInfo", "default_model_path", "discover_models",
    "embedded_model_path", "read_model_info",
]
