"""The method registry: one ``@register_method(name, title=...)`` per method, on the function that
builds its prompt learner. It carries everything the rest of the project asks of a method: the name
``model.method`` takes, the title reports and the studio show, and the prompt learner.

Every module of :mod:`scing_core.models.prompts` is imported with the package, so a method is one file
there plus its preset YAML (docs/architecture.md, "Adding a method").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scing_core.config.schema import ModelConfig
from scing_core.models.prompts.base import PromptLearner
from scing_core.registry import Registry

LearnerFactory = Callable[[ModelConfig, int, object], PromptLearner]


@dataclass(frozen=True)
class Method:
    """A registered method: ``build(model_cfg, num_classes, backbone) -> PromptLearner``."""

    name: str
    title: str
    build: LearnerFactory


METHODS: Registry[Method] = Registry("method")


def register_method(name: str, *, title: str, overwrite: bool = False) -> Callable[[LearnerFactory], LearnerFactory]:
    """Decorator: register the prompt-learner factory it decorates as method ``name`` shown as ``title``."""

    def add(build: LearnerFactory) -> LearnerFactory:
        METHODS.register(name, Method(name.lower(), title, build), overwrite=overwrite)
        return build

    return add


def list_methods() -> list[str]:
    """The method names ``build_model`` accepts."""
    return METHODS.names()


def method_title(method: str) -> str:
    """How reports and the studio name a method (``scing`` -> ``SCING``); unknown names as given."""
    return METHODS.get(method).title if method in METHODS else method


def create_prompt_learner(method: str, model_cfg: ModelConfig, num_classes: int, backbone) -> PromptLearner:
    """The prompt learner of ``method`` for ``num_classes`` identities over ``backbone``'s text tower."""
    return METHODS.get(method).build(model_cfg, num_classes, backbone)
