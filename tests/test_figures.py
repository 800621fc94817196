"""The figure extractor: qualifiers, 万/亿 expansion, classifiers, and what it leaves out."""

from decimal import Decimal
from pathlib import Path

import pytest

from graph.figures import (
    FigureError,
    chinese_number,
    expand,
    find_figures,
    main,
    parse_figure,
    part_context,
    split_sentences,
)
from graph.paths import SOURCE_FILE


@pytest.mark.parametrize(
    ("text", "value", "comparator", "classifier"),
    [
        ("1.1亿份", Decimal(110000000), "exactly", "份"),
        ("1775.1万件", Decimal(17751000), "exactly", "件"),
        ("16.08亿次", Decimal(1608000000), "exactly", "次"),
        ("31.57亿元", Decimal(3157000000), "exactly", "元"),
        ("300余万项", Decimal(3000000), "moreThan", "项"),
        ("5.3万余次", Decimal(53000), "moreThan", "次"),
        ("190多个", Decimal(190), "moreThan", "个"),
        ("超600亿条", Decimal(60000000000), "moreThan", "条"),
        ("超过319亿人次", Decimal(31900000000), "moreThan", "人次"),
        ("突破13万家", Decimal(130000), "moreThan", "家"),
        ("99%以上", Decimal(99), "atLeast", "%"),
        ("近50个", Decimal(50), "nearly", "个"),
        ("约500项", Decimal(500), "approximately", "项"),
        ("71.9%", Decimal("71.9"), "exactly", "%"),
        ("21分钟", Decimal(21), "exactly", "分钟"),
        ("1.49亿", Decimal(149000000), "exactly", None),
    ],
)
def test_parse_figure_expands_and_reads_qualifier(
    text: str, value: Decimal, comparator: str, classifier: str | None
) -> None:
    figure = parse_figure(text)
    assert figure.value == value
    assert figure.comparator == comparator
    assert figure.classifier == classifier
    assert figure.text == text


def test_dates_names_and_ordinals_are_left_out() -> None:
    text = (
        "截至2019年12月底,于2020年2月开放;12309中国检察网和全国12315平台;第6年;截至2020年11月底。"
    )
    assert find_figures(text) == []


def test_figures_are_found_with_offsets_in_order() -> None:
    text = "2020年全年平台访问量7247万人次,接收投诉1775.1万件。"
    figures = find_figures(text)
    assert [f.text for f in figures] == ["7247万人次", "1775.1万件"]
    for figure in figures:
        assert text[figure.start : figure.end] == figure.text


def test_two_figures_side_by_side_are_two() -> None:
    assert [f.text for f in find_figures("共发表14.7万条近2000万字")] == ["14.7万条", "近2000万字"]
    assert [f.text for f in find_figures("36个部委228个业务系统")] == ["36个", "228个"]


def test_decimals_shown_keeps_trailing_zero() -> None:
    assert parse_figure("50.0%").decimals_shown == 1
    assert parse_figure("99%以上").decimals_shown == 0


def test_expand_rejects_garbage_and_parse_rejects_two_figures() -> None:
    assert expand("1.4", "亿") == Decimal(140000000)
    with pytest.raises(FigureError):
        parse_figure("23个和31个")
    with pytest.raises(FigureError):
        parse_figure("2020年")


def test_part_four_has_74_figures_in_39_sentences() -> None:
    part, context = part_context(SOURCE_FILE.read_text(encoding="utf-8"))
    sentences = split_sentences(context, part)
    assert part == 4
    assert len(sentences) == 39
    assert sentences[-1].slug == "p4-s6-04"
    seventh = next(s for s in sentences if s.slug == "p4-s4-07")
    assert seventh.text.startswith("截至2020年底,中国审判流程信息公开网")
    assert seventh.text.endswith("1152万余份。")
    # 71 in Arabic numerals and three in Chinese ones (三级以上, 五级, 连续第六年).
    assert sum(len(find_figures(s.text)) for s in sentences) == 74


def test_main_prints_a_turtle_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "part.txt"
    source.write_text("报告第五部分:标题\n(一)小节\n平台访问量超过200万人次,用户30余万人。\n")
    assert main(source) == 0
    out = capsys.readouterr().out
    assert "2 candidate observation(s)" in out
    assert "sentence/p5-s1-01" in out
    assert '"超过200万人次"@zh' in out


def test_main_reports_a_missing_file_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(tmp_path / "missing.txt") == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "value", "comparator", "classifier"),
    [
        ("三级以上", Decimal(3), "atLeast", "级"),
        ("五级", Decimal(5), "exactly", "级"),
        ("连续第六年", Decimal(6), "exactly", "年"),
        ("近十二个", Decimal(12), "nearly", "个"),
        ("三百余万项", Decimal(3000000), "moreThan", "项"),
    ],
)
def test_figures_in_chinese_numerals_are_read(
    text: str, value: Decimal, comparator: str, classifier: str
) -> None:
    figure = parse_figure(text)
    assert (figure.value, figure.comparator, figure.classifier) == (value, comparator, classifier)


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("一百二十", 120), ("两千零五", 2005)],
)
def test_chinese_number(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


@pytest.mark.parametrize(
    "text",
    [
        "上海“一网通办”",
        "全国一体化政务服务平台",
        "第四部分",
        "(一)顶层设计",
        "“四大检察”全面协调发展",
        "全国两会前",
        "建设统一的信息资源库",
        "形成一个平台",
        "二〇二〇年",
        "第六年",
    ],
)
def test_words_built_on_chinese_numerals_are_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_the_release_has_exactly_three_figures_in_chinese_numerals() -> None:
    source = SOURCE_FILE.read_text(encoding="utf-8")
    chinese = [f.text for f in find_figures(source) if not f.number[0].isdigit()]
    assert chinese == ["三级以上", "五级", "连续第六年"]


def test_main_drafts_figures_in_chinese_numerals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "part.txt"
    source.write_text(
        "报告第十二部分:标题\n(一)小节\n平台覆盖省、市、县三级以上,连续第六年开展一网通办。\n"
    )
    assert main(source) == 0
    out = capsys.readouterr().out
    assert "2 candidate observation(s)" in out
    assert "sentence/p12-s1-01" in out
    assert '"三级以上"@zh' in out and "unit/level" in out
    assert '"连续第六年"@zh' in out and "unit:YR" in out
