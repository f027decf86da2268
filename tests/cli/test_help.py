"""``--help`` of the group and of every command works and shows an example; ``--version``."""

from __future__ import annotations

import pytest

import raadata
from raadata._cli import main

from .conftest import COMMANDS, invoke, run


def test_the_group_has_exactly_the_documented_commands() -> None:
    assert set(main.commands) == set(COMMANDS)


def test_group_help_lists_every_command_and_the_first_step() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert f"\n  {command} " in result.stdout
    assert "raadata demo" in result.stdout
    for flag in ("--client-secret-file", "--prompt-secret", "--debug", "--workers"):
        assert flag in result.stdout
    assert "--client-secret " not in result.stdout  # never a plain secret flag


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_shows_an_example(command: str) -> None:
    result = invoke([command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    text = result.stdout
    assert text.startswith(f"Usage: main {command} [OPTIONS]")
    assert "Example:" in text
    example = text.split("Example:", 1)[1]
    assert f"raadata {command}" in example, example


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"raadata, version {raadata.__version__}"


def test_help_as_a_process(invocation: list[str]) -> None:
    top = run([*invocation, "--help"])
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("Usage: raadata [OPTIONS] COMMAND [ARGS]...")
    assert all(f"\n  {command} " in top.stdout for command in COMMANDS)
    sub = run([*invocation, "get", "--help"])
    assert sub.returncode == 0, sub.stderr
    assert sub.stdout.startswith("Usage: raadata get [OPTIONS] SELECTORS...")
    assert 'raadata get "raalabs/IMO1000001/ME ShaftPower"' in sub.stdout
    assert top.stderr == sub.stderr == ""
