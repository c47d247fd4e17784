"""Raw input lines for `pixel predict`: numbering, blank lines, and words of scripts written without spaces."""

from __future__ import annotations

import pytest

from pixel.data.raw_input import UNSEGMENTED_MIN_CHARS, RawLine, raw_lines, unsegmented_word


def test_lines_are_numbered_as_an_editor_numbers_them_and_blank_ones_are_listed() -> None:
    lines, blank = raw_lines("a b\r\n\n   \n  c\x0cd \n")
    assert lines == [RawLine(1, "a b"), RawLine(4, "c\x0cd")]  # only "\n" ends a line
    assert blank == [2, 3]
    assert raw_lines("x") == ([RawLine(1, "x")], [])
    assert raw_lines("") == ([], [])


@pytest.mark.parametrize(
    ("text", "scripts"),
    [
        ("ผมชอบกินข้าวผัดมากที่สุดในโลก", "Thai"),
        ("ຂ້ອຍມັກກິນເຂົ້າໜຽວຫຼາຍທີ່ສຸດ", "Lao"),
        ("ខ្ញុំចូលចិត្តញ៉ាំបាយណាស់", "Khmer"),
        ("ကျွန်တော်ထမင်းစားရတာကြိုက်တယ်", "Myanmar"),
        ("我们今天下午一起去图书馆看书吧", "Han"),
        ("今日は天気がいいので散歩しましょう", "Han/Hiragana"),
        ("昨日 コンピューターサイエンスの授業", "Han/Hiragana/Katakana"),
    ],
)
def test_unsegmented_runs_are_found_with_their_script(text: str, scripts: str) -> None:
    word, found = unsegmented_word(text.split())
    assert found == scripts and len(word) >= UNSEGMENTED_MIN_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "Tôi yêu Hà_Nội .",  # spaced Latin
        "มหาวิทยาลัย เชียงใหม่",  # Thai, segmented: "university" is 11 code points
        "我 爱 北京 天安门",  # Chinese, segmented
        "Internationalisierungsbestrebungen",  # a long word of a script written with spaces
    ],
)
def test_segmented_text_and_spaced_scripts_pass(text: str) -> None:
    assert unsegmented_word(text.split()) is None
