"""The renderer's frozen config, the engine picker, and the structure of ``pixel/render`` (no cycles, one picker)."""

import ast
import dataclasses
import pickle
from pathlib import Path

import pytest

import pixel
from pixel.render import STRATEGIES, PangoCairoTextRenderer
from pixel.render.config import RendererConfig
from pixel.render.engines import make_engine
from pixel.render.engines.bigrams import BigramsEngine
from pixel.render.engines.blocks import BlockEngine
from pixel.render.engines.continuous import ContinuousEngine
from pixel.render.fonts import NOTO_SANS_FILE

PACKAGE = Path(pixel.__file__).parent


def config(**changes):
    return RendererConfig(font_file=str(NOTO_SANS_FILE), **changes)


def test_config_is_frozen_and_checked_when_made_or_replaced():
    c = config(max_seq_length=64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.max_seq_length = 32  # type: ignore[misc]
    assert c.replace(max_seq_length=32).max_seq_length == 32 and c.max_seq_length == 64
    with pytest.raises(ValueError, match="max_seq_length=5000 is out of range"):
        c.replace(max_seq_length=5000)
    with pytest.raises(ValueError, match="unknown rendering_strategy 'bigram'.*did you mean 'bigrams'"):
        config(rendering_strategy="bigram")
    with pytest.raises(TypeError, match="'max_seq_len'.*did you mean 'max_seq_length'"):
        c.replace(max_seq_len=3)
    with pytest.raises(FileNotFoundError, match="font file not found"):
        RendererConfig(font_file="/no/such.ttf")
    with pytest.raises(ValueError, match="left_padding=16 is out of range"):
        config(left_padding=16)  # checked against pixels_per_patch, made before it
    assert config(render_settings={"hintstyle": "hintnone"}).render_settings.hintstyle == "hintnone"


def test_resolve_gives_each_strategy_its_defaults():
    words = RendererConfig.resolve(rendering_strategy="words")
    assert words.font_file == str(NOTO_SANS_FILE) and words.fallback_dirs
    assert words.render_settings.preferred_fallbacks  # new strategies prefer each script's font
    given = RendererConfig.resolve(font_file=NOTO_SANS_FILE, rendering_strategy="words")
    assert given.fallback_dirs == () and given.render_settings.preferred_fallbacks == ()


@pytest.mark.parametrize(
    ("strategy", "use_cache", "engine"),
    [
        ("bigrams", True, BigramsEngine),
        ("bigrams", False, BlockEngine),  # the reference path, with the published quirks
        ("grapheme_bigrams", True, BlockEngine),
        ("words", False, BlockEngine),
        ("mono", True, BlockEngine),
        ("continuous", True, ContinuousEngine),
    ],
)
def test_one_engine_per_kind_of_strategy(strategy, use_cache, engine):
    picked = make_engine(config(rendering_strategy=strategy, use_cache=use_cache))
    assert type(picked) is engine
    if isinstance(picked, BlockEngine):
        assert picked.quirks == (strategy == "bigrams")


def test_settings_replace_the_config_and_keep_or_rebuild_the_engine(make_renderer):
    r = PangoCairoTextRenderer(max_seq_length=64)
    engine = r.engine
    r.max_seq_length = 32  # a live setting: same engine (fonts and caches kept), new config
    assert r.engine is engine and engine.config.max_seq_length == 32 == r.config.max_seq_length
    assert r("hello " * 40).pixel_values.shape == (16, 32 * 16)
    r.font_size = 9  # changes glyphs: a fresh engine
    assert r.engine is not engine and r.engine.config.font_size == 9
    with pytest.raises(ValueError, match="max_seq_length=0 is out of range"):
        r.max_seq_length = 0
    assert r.max_seq_length == 32  # a refused setting changes nothing
    clone = pickle.loads(pickle.dumps(r))
    assert clone.config == r.config and clone._engine is None


def test_uses_says_which_keywords_a_strategy_takes(make_renderer):
    assert make_renderer("continuous").uses("return_offset_mapping")
    assert not make_renderer("bigrams").uses("return_offset_mapping")
    assert make_renderer("bigrams").uses("stride", "pair")
    assert not make_renderer("continuous").uses("rtl", "list")
    with pytest.raises(TypeError, match="did you mean 'pixel_shift'"):
        make_renderer().uses("pixel_shifts")


def _module_imports(path: Path) -> set[str]:
    """``pixel.render`` modules imported by the module at ``path`` (at any level, lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pixel.render"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pixel.render"))
    return found


def test_render_package_has_no_import_cycle():
    modules = {}
    for path in (PACKAGE / "render").rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = _module_imports(path)
    # A package imports its own modules' names; an edge into a package counts as into its __init__.
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(modules.get(module, ())):
            if target == module or target not in modules:
                continue
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, module, target]))
            if target not in state:
                visit(target, [*trail, module])
        state[module] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [])
    assert "pixel.render.engines.bigrams" in modules and len(modules) > 15


def test_no_strategy_name_is_compared_outside_the_strategy_table():
    """Code reads a strategy's facts (``Strategy``) or talks to its engine; it never tests its name."""
    names = set(STRATEGIES)
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            constants = [n for o in operands for n in ast.walk(o) if isinstance(n, ast.Constant)]
            if any(isinstance(c.value, str) and c.value in names for c in constants):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders
