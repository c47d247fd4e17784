"""SIB-200 languages looked up in several folders: found in exactly one, else a clear error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pixel.analysis.sib import locate_languages, read_parallel, read_split


@pytest.fixture
def two_folders(sib_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """`first` holds eng_Latn and hin_Deva, `second` ukr_Cyrl (copies of the shared tiny SIB folder)."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, langs in ((first, ["eng_Latn", "hin_Deva"]), (second, ["ukr_Cyrl"])):
        for lang in langs:
            shutil.copytree(sib_dir / lang, folder / lang)
    return first, second


def test_languages_are_found_across_folders(two_folders):
    first, second = two_folders
    paths = locate_languages([first, second], ["ukr_Cyrl", "eng_Latn"])
    assert paths == {
        "ukr_Cyrl": second / "ukr_Cyrl" / "test.tsv",
        "eng_Latn": first / "eng_Latn" / "test.tsv",
    }
    splits = read_parallel([first, second], ["eng_Latn", "hin_Deva", "ukr_Cyrl"], "train")
    assert [len(s.ids) for s in splits.values()] == [12, 12, 12]
    assert read_split([second, first], "ukr_Cyrl").texts[0] == "Команда виграла фінальний матч."


def test_missing_language_lists_each_folder(two_folders):
    first, second = two_folders
    with pytest.raises(ValueError) as error:
        locate_languages([first, second], ["eng_Latn", "deu_Latn", "xyz_Latn"])
    message = str(error.value)
    assert message.startswith("unknown language(s) deu_Latn, xyz_Latn (test.tsv)")
    assert f"available in {first}: eng_Latn, hin_Deva" in message
    assert f"available in {second}: ukr_Cyrl" in message


def test_language_in_two_folders_is_ambiguous(two_folders):
    first, second = two_folders
    shutil.copytree(first / "eng_Latn", second / "eng_Latn")
    with pytest.raises(ValueError, match="ambiguous") as error:
        read_parallel([first, second], ["eng_Latn", "ukr_Cyrl"])
    assert (
        f"eng_Latn is in both {first / 'eng_Latn' / 'test.tsv'} and {second / 'eng_Latn' / 'test.tsv'}"
        in str(error.value)
    )
    # only the languages asked for are checked: the duplicate does not block the others
    assert list(locate_languages([first, second], ["hin_Deva", "ukr_Cyrl"])) == ["hin_Deva", "ukr_Cyrl"]


def test_same_folder_twice_or_a_symlink_is_not_ambiguous(two_folders, tmp_path):
    first, second = two_folders
    farm = tmp_path / "farm"
    farm.mkdir()
    (farm / "eng_Latn").symlink_to(first / "eng_Latn")
    paths = locate_languages([first, second, first, farm], ["eng_Latn", "ukr_Cyrl"])
    assert paths["eng_Latn"] == first / "eng_Latn" / "test.tsv"


def test_missing_folder_is_named(two_folders, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'nowhere'} does not exist"):
        locate_languages([two_folders[0], tmp_path / "nowhere"], ["eng_Latn"])
