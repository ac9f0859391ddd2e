"""Reading the directory file: errors that name the file and the line, and the checks a service makes
before it starts with one (no published example keys or secrets)."""

from pathlib import Path
from typing import Any

import structlog
import yaml
from pydantic import ValidationError

from shared.directory import Directory

log = structlog.get_logger()


class DirectoryError(ValueError):
    """The directory file cannot be used; the message names the file and line."""


def load_directory(path: Path) -> Directory:
    """Read and validate a directory file; errors name the file and the line."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot read the directory file ({exc.strerror})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DirectoryError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DirectoryError(f"{path}:1: the directory must be a mapping with 'organisations'")
    try:
        return Directory.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            line = _line_of(node, err["loc"])
            where = ".".join(str(part) for part in err["loc"])
            lines.append(f"{path}:{line}: {where}: {err['msg']}")
        raise DirectoryError("invalid directory:\n  " + "\n  ".join(lines)) from exc


def _line_of(node: Any, loc: tuple[int | str, ...]) -> int:
    """Follow a validation error's location into the YAML node tree; return the 1-based line."""
    line: int = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
            if child is None:  # an unknown or missing key: point at the mapping's line for it
                key_node = next((key for key, _ in node.value if key.value == part), None)
                if key_node is not None:
                    child = key_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def open_directory(path: Path | None, *, allow_examples: bool = False) -> Directory:
    """The directory a service starts with: `MTP_DIRECTORY` must name one, and it must hold none of
    the repository's published example keys or secrets unless `MTP_ALLOW_EXAMPLE_DIRECTORY` says this
    is a trial on one machine."""
    if path is None:
        raise DirectoryError(
            "MTP_DIRECTORY is not set: name the directory file (see deploy/directory.example.yaml for its form)"
        )
    directory = load_directory(path)
    examples = directory.published_examples()
    if examples and not allow_examples:
        raise DirectoryError(
            f"{path}: holds keys or secrets published in this repository's example, which anyone can use:\n  "
            + "\n  ".join(examples)
            + "\nMake real ones with `mtp keys new --org <id>` and `mtp keys secret`, or set "
            "MTP_ALLOW_EXAMPLE_DIRECTORY=true for a trial on one machine."
        )
    if examples:
        log.warning("directory_has_example_keys", path=str(path), findings=len(examples))
    return directory
