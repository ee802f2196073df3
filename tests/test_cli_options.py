"""rag/cli/options.py: option groups declared once, spread into a command's options by @grouped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rag.cli.app import app as rag_app
from rag.cli.options import LLMOptions, StoreOptions, Where, grouped


def toy():
    seen = {}
    app = typer.Typer()

    @app.command()
    @grouped
    def run(name: str, *, where: Where, llm: LLMOptions, store: StoreOptions, loud: bool = False) -> None:
        seen.update(name=name, where=where, llm=llm, store=store, loud=loud)

    @app.command()
    def other() -> None:  # a second command keeps typer from folding the app into `run`
        pass

    return app, seen


def test_the_options_of_each_group_come_back_as_the_group():
    app, seen = toy()
    result = CliRunner().invoke(app, ["run", "x", "--source", "00*", "--since", "2020-12-01", "--model", "m",
                                      "--no-cache", "--store-dir", "/tmp/s", "--set", "k=1", "--set", "j=2", "--loud"])
    assert result.exit_code == 0, result.output
    assert seen["where"] == Where(source="00*", since=dt.datetime(2020, 12, 1))
    assert seen["where"].filters().since == dt.date(2020, 12, 1) and seen["where"].filters().as_of is None
    assert seen["llm"] == LLMOptions(model="m", no_cache=True)
    assert seen["store"] == StoreOptions(store_dir=Path("/tmp/s"), sets=["k=1", "j=2"])
    assert seen["name"] == "x" and seen["loud"] is True


def test_a_group_left_out_on_the_command_line_has_its_defaults():
    app, seen = toy()
    assert CliRunner().invoke(app, ["run", "y"]).exit_code == 0
    assert (seen["where"], seen["llm"], seen["store"]) == (Where(), LLMOptions(), StoreOptions())


def test_an_option_named_twice_is_refused_when_the_command_is_declared():
    def clash(*, store: StoreOptions, sets: str = "") -> None:
        pass

    with pytest.raises(TypeError, match="clash"):
        grouped(clash)


def test_rag_ask_lists_each_option_once():
    result = CliRunner().invoke(rag_app, ["ask", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--source", "--as-of", "--model", "--no-cache", "--local-model", "--store-dir", "--set", "--json"):
        assert result.output.count(f" {option} ") == 1, option
