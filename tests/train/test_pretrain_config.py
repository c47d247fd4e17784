"""`pixel pretrain` on bad input: one line naming the flag, or the preset file and key, with exit code 2 (usage)
or 1 (missing data); no training starts. In-process and offline; no model is built."""

from pathlib import Path

import pytest
import yaml
from pretrain_support import DATA, TINY, needs_sib200  # noqa: F401

from pixel.cli import UsageError
from pixel.cli import main as pixel

pytestmark = needs_sib200


def pretrain(*argv: object) -> int:
    return pixel(["pretrain", *map(str, argv)])


def preset_file(tmp_path: Path, edit) -> Path:
    """tiny.yaml, changed by ``edit(preset)``, written to tmp_path (its data_dir made absolute)."""
    preset = yaml.safe_load(TINY.read_text())
    preset["data"]["data_dir"] = str(DATA.resolve())
    edit(preset)
    path = tmp_path / "preset.yaml"
    path.write_text(yaml.safe_dump(preset))
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("pixel pretrain: error: ")
    return err.removeprefix("pixel pretrain: error: ").rstrip("\n")


@pytest.mark.parametrize("flag", ["--max_step", "--max-step", "--learnin_rate"])
def test_unknown_or_abbreviated_flag_is_named(flag, tmp_path, capsys):
    assert pretrain("--config", TINY, "--output_dir", tmp_path / "o", flag, "2") == 2
    assert one_error_line(capsys) == f"unrecognized arguments: {flag} 2 (see --help)"
    assert not (tmp_path / "o").exists()


def test_no_flag_sets_a_boolean_false_and_flags_override_the_preset():
    from pixel.train.pretrain import parse_arguments, read_preset

    cli, flags = parse_arguments(["--config", str(TINY), "--output_dir", "o", "--no_dataloader_pin_memory",
                                  "--seed", "7", "--bf16", "false"])  # fmt: skip
    assert flags == {"output_dir": "o", "dataloader_pin_memory": False, "seed": 7, "bf16": False}
    args = read_preset(cli.config).training_arguments(flags)
    assert args.dataloader_pin_memory is False and args.seed == 7
    assert args.max_steps == 300 and args.learning_rate == pytest.approx(0.05 * 8 / 256)  # from the preset
    assert parse_arguments(["--config", str(TINY)])[1] == {}  # nothing given, nothing overrides the preset


def test_training_arguments_layer_recipe_preset_and_flags():
    from pixel.train.pretrain import read_preset

    preset = read_preset(TINY)
    args = preset.training_arguments({"output_dir": "o", "per_device_train_batch_size": 16})
    assert args.learning_rate == pytest.approx(0.05 * 16 / 256)  # base lr x total batch / 256
    assert args.weight_decay == 0.05 and args.lr_scheduler_kwargs == {"min_lr": 1e-4}  # recipe, then preset
    assert preset.training_arguments({"output_dir": "o", "learning_rate": 1e-3}).learning_rate == 1e-3
    with pytest.raises(UsageError) as error:
        preset.training_arguments({"output_dir": "o", "warmup_steps": 10})
    assert str(error.value) == f"{TINY}: training.warmup_ratio: give warmup_ratio or warmup_steps, not both"
    with pytest.raises(UsageError, match="give --output_dir"):
        preset.training_arguments({})


def test_unknown_preset_key_names_file_key_and_suggestion(tmp_path, capsys):
    path = preset_file(tmp_path, lambda p: p["model"].update(hiden_size=32))
    assert pretrain("--config", path, "--output_dir", tmp_path / "o") == 2
    assert one_error_line(capsys) == f"{path}: model.hiden_size: unknown key (did you mean hidden_size?)"
    assert (
        pretrain("--config", TINY, "--output_dir", tmp_path / "o", "--override", "data.mask_ration=0.3") == 2
    )
    assert one_error_line(capsys) == (
        "--override data.mask_ration=0.3: data.mask_ration: unknown key (did you mean mask_ratio?)"
    )
    assert (
        pretrain("--config", TINY, "--override", "reconstruction_step=3", "--output_dir", tmp_path / "o") == 2
    )
    assert "reconstruction_step: unknown key (did you mean reconstruction_steps?)" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.hidden_size=abc", "model.hidden_size: expected an integer, got the string 'abc'"),
        ("data.max_patches=many", "data.max_patches: expected an integer, got the string 'many'"),
        ("training.per_device_train_batch_size=eight",
         "training.per_device_train_batch_size: expected an integer, got the string 'eight'"),
        ("model=[1, 2]", "model: expected a mapping of PIXELConfig fields, got a list [1, 2]"),
        ("data.span_masking=maybe", "data.span_masking: expected true or false, got the string 'maybe'"),
        ("data.sources=[{path: a.tsv, langauge: en}]",
         "data.sources[0].langauge: unknown key (did you mean language?)"),
    ],
)  # fmt: skip
def test_wrong_type_names_key_and_expected_type(override, message, tmp_path, capsys):
    assert pretrain("--config", TINY, "--output_dir", tmp_path / "o", "--override", override) == 2
    assert one_error_line(capsys) == f"--override {override}: {message}"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("renderer.rgb=3", "rgb=3 must be True or False, not int"),
        ("renderer.rgbb=true", "PangoCairoTextRenderer got unexpected keyword argument 'rgbb' (did you mean 'rgb'?)"),
        ("renderer.subfolder=x", "PangoCairoTextRenderer got unexpected keyword argument 'subfolder'"),
        ("renderer=[1, 2]", "expected a mapping, got a list [1, 2]"),
    ],
)  # fmt: skip
def test_bad_renderer_setting_is_the_renderers_own_error_naming_the_preset(
    override, message, tmp_path, capsys
):
    """The renderer checks its settings itself; the error says which preset and overrides gave them."""
    assert pretrain("--config", TINY, "--output_dir", tmp_path / "o", "--override", override) == 2
    line = one_error_line(capsys)
    origin = (
        f"--override {override}"
        if override.startswith("renderer=")
        else f"{TINY} (with --override {override})"
    )
    assert line.startswith(f"{origin}: renderer: {message}"), line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["data"].update(mask_ratio=1.5), "data.mask_ratio: must be in (0, 1) (published 0.25), got 1.5"),
        (lambda p: p["data"].update(max_patches=0), "data.max_patches: must be at least 1, got 0"),
        (lambda p: p["training"].update(save_total_limit=1), "training.save_total_limit: must be at least 2"),
        (lambda p: p["training"].update(max_steps=-3), "training.max_steps: must be a positive number of steps"),
        (lambda p: p.update(reconstruction_steps=-1), "reconstruction_steps: must be at least 0"),
        (lambda p: p["model"].update(image_size=[16, 512]),
         "model.image_size: [16, 512] has fewer patches than data.max_patches=127: make it at least [16, 2032]"),
    ],
)  # fmt: skip
def test_value_out_of_range_names_file_and_key(edit, message, tmp_path, capsys):
    path = preset_file(tmp_path, edit)
    assert pretrain("--config", path, "--output_dir", tmp_path / "o") == 2
    assert one_error_line(capsys).startswith(f"{path}: {message}")


def test_malformed_yaml_names_file_and_line(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("model:\n  hidden_size: 32\n  image_size: [16, 512\ndata: {}\n")
    assert pretrain("--config", path, "--output_dir", tmp_path / "o") == 2
    assert one_error_line(capsys).startswith(f"{path}: line 4, column 5: invalid YAML: expected ',' or ']'")


def test_missing_source_file_is_a_data_error_naming_it(tmp_path, capsys):
    path = preset_file(tmp_path, lambda p: p["data"]["sources"].append({"path": "sib200/xxx_Xxxx/train.tsv"}))
    assert pretrain("--config", path, "--output_dir", tmp_path / "o") == 1
    line = one_error_line(capsys)
    assert line.startswith(
        f"{path}: data.sources[4].path: {DATA.resolve() / 'sib200/xxx_Xxxx/train.tsv'} does not exist"
    )
    assert pretrain("--config", tmp_path / "nope.yaml") == 1
    assert (
        one_error_line(capsys)
        == f"--config {tmp_path / 'nope.yaml'}: no such preset file (see configs/pretrain/)"
    )


@pytest.mark.parametrize("steps", ["-3", "0"])
def test_max_steps_must_be_positive(steps, tmp_path, capsys):
    assert pretrain("--config", TINY, "--output_dir", tmp_path / "o", "--max_steps", steps) == 2
    assert one_error_line(capsys) == (
        f"--max_steps: must be a positive number of steps (or -1: train num_train_epochs), got {steps}"
    )


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(UsageError, match="hidden_size: expected an integer"):
        pretrain("--config", TINY, "--debug", "--override", "model.hidden_size=abc", "--output_dir", tmp_path)


@pytest.mark.parametrize("preset", sorted((TINY.parent).glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_presets_pass_their_checks(preset):
    from pixel.train.pretrain import read_preset

    checked = read_preset(preset)
    args = checked.training_arguments({"output_dir": "o", "use_cpu": True})
    assert checked.data.mask_ratio == 0.25 and args.warmup_steps == 0.05 and args.max_steps > 0
    assert checked.model.mask_ratio == 0.25 and checked.renderer.rgb
