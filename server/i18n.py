"""Interface language of the pages: Chinese or English.

The reader picks it with `?lang=zh|en` (remembered in a cookie so that following links keeps
it); without a choice the browser's `Accept-Language` decides, and English is the fallback for
readers who ask for neither language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Response, g, request

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"

# One entry per interface string; templates call `t("key")`.
MESSAGES: dict[str, dict[str, str]] = {
    "site.title": {"zh": "数字中国发展报告(2020)知识图谱", "en": "Digital China Report 2020 KG"},
    "nav.home": {"zh": "首页", "en": "Home"},
    "nav.search": {"zh": "搜索", "en": "Search"},
    "nav.sparql": {"zh": "SPARQL 查询", "en": "SPARQL query"},
    "nav.ontology": {"zh": "本体", "en": "Ontology"},
    "nav.language": {"zh": "语言", "en": "Language"},
    "home.about": {"zh": "关于本数据集", "en": "About this dataset"},
    "home.intro": {
        "zh": "本知识图谱将《数字中国发展报告(2020年)》第四部分“数字政府治理效能持续提升”"
        "中的机构、平台、服务、地区与数字,以关联数据形式发布;每个数字都可追溯到原文句子。",
        "en": "This knowledge graph publishes the agencies, platforms, services, regions and "
        "figures of Part 4 of the Digital China Development Report (2020), “Digital "
        "government governance keeps improving”, as linked data; every figure cites the "
        "sentence it comes from.",
    },
    "home.source": {"zh": "来源", "en": "Source"},
    "home.publisher": {"zh": "发布者", "en": "Publisher"},
    "home.license": {"zh": "许可协议", "en": "License"},
    "home.version": {"zh": "版本", "en": "Version"},
    "home.modified": {"zh": "更新时间", "en": "Modified"},
    "home.counts": {"zh": "各命名图的三元组数", "en": "Triples per named graph"},
    "home.graph": {"zh": "命名图", "en": "Named graph"},
    "home.triples": {"zh": "三元组", "en": "Triples"},
    "home.total": {"zh": "合计", "en": "Total"},
    "home.classes": {"zh": "按类别浏览", "en": "Browse by class"},
    "home.members": {"zh": "个成员", "en": "members"},
    "home.metrics": {"zh": "指标体系", "en": "Metric scheme"},
    "home.structure": {"zh": "报告结构", "en": "Report structure"},
    "home.facts": {"zh": "条数据", "en": "figures"},
    "home.sentences": {"zh": "个句子", "en": "sentences"},
    "home.dumps": {"zh": "数据下载", "en": "Downloads"},
    "home.endpoint": {"zh": "SPARQL 端点", "en": "SPARQL endpoint"},
    "home.endpoint.text": {
        "zh": "查询界面与 SPARQL 1.1 协议端点:",
        "en": "Query interface and SPARQL 1.1 protocol endpoint:",
    },
    "home.service": {"zh": "服务描述", "en": "Service description"},
    "home.void": {"zh": "数据集描述(VoID/DCAT)", "en": "Dataset description (VoID/DCAT)"},
    "res.labels": {"zh": "名称", "en": "Labels"},
    "res.type": {"zh": "类型", "en": "Type"},
    "res.properties": {"zh": "属性", "en": "Properties"},
    "res.property": {"zh": "属性", "en": "Property"},
    "res.value": {"zh": "值", "en": "Value"},
    "res.incoming": {"zh": "指向本资源的链接", "en": "Links to this resource"},
    "res.inferred": {"zh": "推理得到的陈述", "en": "Inferred statements"},
    "res.figures": {"zh": "数据", "en": "Figures"},
    "res.chart": {"zh": "对比", "en": "Comparison"},
    "res.formats": {"zh": "其他格式", "en": "Other formats"},
    "res.external": {"zh": "外部链接", "en": "external link"},
    "res.more": {"zh": "更多", "en": "more"},
    "res.none": {"zh": "无", "en": "none"},
    "obs.about": {"zh": "对象", "en": "About"},
    "obs.metric": {"zh": "指标", "en": "Metric"},
    "obs.stated": {"zh": "原文表述", "en": "As written"},
    "obs.value": {"zh": "数值", "en": "Value"},
    "obs.comparator": {"zh": "比较", "en": "Comparator"},
    "obs.date": {"zh": "日期", "en": "Date"},
    "obs.unit": {"zh": "单位", "en": "Unit"},
    "obs.source": {"zh": "原文句子", "en": "Source sentence"},
    "obs.asof": {"zh": "截至", "en": "as of"},
    "obs.period": {"zh": "期间", "en": "during"},
    "sent.context": {"zh": "所在段落", "en": "In its paragraph"},
    "sent.section": {"zh": "所在章节", "en": "Section"},
    "sent.facts": {"zh": "由此句得出的数据", "en": "Figures drawn from this sentence"},
    "metric.broader": {"zh": "上位指标", "en": "Broader metric"},
    "metric.narrower": {"zh": "下位指标", "en": "Narrower metrics"},
    "search.title": {"zh": "名称搜索", "en": "Label search"},
    "search.placeholder": {"zh": "输入中文或英文名称", "en": "a Chinese or English name"},
    "search.button": {"zh": "搜索", "en": "Search"},
    "search.results": {"zh": "个结果", "en": "results"},
    "search.none": {"zh": "没有找到匹配的名称。", "en": "No label matches."},
    "search.short": {"zh": "请输入搜索词。", "en": "Enter a word to search for."},
    "notfound.title": {"zh": "未找到该资源", "en": "No such resource"},
    "notfound.text": {
        "zh": "数据集中没有关于此 IRI 的陈述。可以按名称搜索:",
        "en": "The dataset says nothing about this IRI. Try a label search:",
    },
    "class.members": {"zh": "成员", "en": "Members"},
    "ontology.classes": {"zh": "类", "en": "Classes"},
    "ontology.properties": {"zh": "属性", "en": "Properties"},
    "query.title": {"zh": "SPARQL 查询", "en": "SPARQL query"},
    "query.editor": {"zh": "查询语句", "en": "Query"},
    "query.run": {"zh": "执行查询", "en": "Run query"},
    "query.examples": {"zh": "示例查询", "en": "Example queries"},
    "query.results": {"zh": "查询结果", "en": "Results"},
    "query.download": {"zh": "下载结果", "en": "Download results"},
    "query.rows": {"zh": "行", "en": "rows"},
    "query.truncated": {
        "zh": "结果已按服务器上限截断。",
        "en": "The result was cut at the server's row limit.",
    },
    "query.error": {"zh": "查询出错", "en": "Query error"},
    "query.position": {"zh": "位置", "en": "at"},
    "query.line": {"zh": "行", "en": "line"},
    "query.column": {"zh": "列", "en": "column"},
    "query.true": {"zh": "是", "en": "true"},
    "query.false": {"zh": "否", "en": "false"},
    "query.share": {
        "zh": "查询保存在本页网址中,可直接分享。",
        "en": "The query is kept in this page's address, so the link can be shared.",
    },
    "error.back": {"zh": "返回首页", "en": "Back to the home page"},
}

# The workbench pages (/figures, /report, /dumps/, citations, the home page's start), one block.
WORKBENCH_MESSAGES: dict[str, dict[str, str]] = {
    "nav.figures": {"zh": "数据表", "en": "Figures"},
    "nav.report": {"zh": "阅读报告", "en": "Report"},
    "nav.dumps": {"zh": "下载", "en": "Downloads"},
    "fig.title": {"zh": "全部数据", "en": "Every figure"},
    "fig.intro": {
        "zh": "报告第四部分的每个数字,连同单位、比较词、日期与原文句子。可筛选、排序并下载。",
        "en": "Every figure of Part 4 with its unit, qualifier, date and sentence; filter, "
        "sort and download.",
    },
    "fig.count": {"zh": "显示 {n} / {total} 个数据", "en": "{n} of {total} figures"},
    "fig.section": {"zh": "章节", "en": "Section"},
    "fig.kind": {"zh": "对象类别", "en": "Kind of entity"},
    "fig.measure": {"zh": "度量类型", "en": "Measure type"},
    "fig.basis": {"zh": "日期依据", "en": "Date basis"},
    "fig.refdate": {"zh": "参考日期", "en": "Reference date"},
    "fig.text": {"zh": "文字", "en": "Text"},
    "fig.sort": {"zh": "排序", "en": "Sort by"},
    "fig.all": {"zh": "全部", "en": "all"},
    "fig.apply": {"zh": "筛选", "en": "Filter"},
    "fig.reset": {"zh": "清除筛选", "en": "Clear filters"},
    "fig.download": {"zh": "下载这些数据", "en": "Download these rows"},
    "fig.csvw": {"zh": "CSVW 元数据", "en": "CSVW metadata"},
    "fig.none": {"zh": "没有符合筛选条件的数据。", "en": "No figure matches these filters."},
    "fig.sentence": {"zh": "原文句子", "en": "Sentence"},
    "fig.sentence_n": {"zh": "第{section}节第{n}句", "en": "§{section} sentence {n}"},
    "fig.order.report": {"zh": "报告顺序", "en": "report order"},
    "report.title": {"zh": "阅读报告第四部分", "en": "Read Part 4 of the report"},
    "report.intro": {
        "zh": "原文按章节和段落排列;每个数字都已标出,点击可查看其观测数据。",
        "en": "The text as in the report, by section and paragraph; every figure is "
        "highlighted and leads to its observation.",
    },
    "report.paragraph": {"zh": "段落", "en": "paragraph"},
    "report.figures": {"zh": "个数据", "en": "figures"},
    "dumps.title": {"zh": "数据下载", "en": "Downloads"},
    "dumps.intro": {
        "zh": "本次构建的全部数据文件及其 SHA-256 校验值。",
        "en": "Every file of this build, with its size and SHA-256 checksum.",
    },
    "dumps.file": {"zh": "文件", "en": "File"},
    "dumps.size": {"zh": "大小", "en": "Size"},
    "dumps.media": {"zh": "媒体类型", "en": "Media type"},
    "cite.title": {"zh": "引用本页", "en": "Cite this"},
    "cite.as": {"zh": "格式", "en": "Formats"},
    "cite.accessed": {"zh": "访问日期", "en": "accessed"},
    "cite.version": {"zh": "数据集版本", "en": "dataset version"},
    "home.start": {"zh": "从这里开始", "en": "Start here"},
    "home.member": {"zh": "个成员", "en": "member"},
    "home.do.figures": {
        "zh": "浏览全部数据:筛选、排序,下载为 CSV 或 Excel",
        "en": "Browse every figure: filter, sort, download as CSV or Excel",
    },
    "home.do.report": {
        "zh": "阅读报告原文,每个数字都可点击",
        "en": "Read the report, every figure a link",
    },
    "home.do.search": {
        "zh": "按名称搜索机构、平台和服务",
        "en": "Search agencies, platforms and services by name",
    },
    "home.do.query": {"zh": "用 SPARQL 查询知识图谱", "en": "Query the graph in SPARQL"},
    "home.do.download": {
        "zh": "下载完整数据集(RDF 转储)",
        "en": "Download the whole dataset (RDF dumps)",
    },
}
MESSAGES.update(WORKBENCH_MESSAGES)

# dcdr:comparator values in words (contract: DESIGN.md "Observations").
COMPARATOR_WORDS: dict[str, dict[str, str]] = {
    "exactly": {"zh": "恰为", "en": "exactly"},
    "moreThan": {"zh": "超过", "en": "more than"},
    "atLeast": {"zh": "至少", "en": "at least"},
    "nearly": {"zh": "接近", "en": "nearly"},
    "approximately": {"zh": "约", "en": "approximately"},
}


def choose_language(
    arg: str | None, cookie: str | None, accepted: Iterable[tuple[str, float]]
) -> str:
    """The language to show: explicit choice, then remembered choice, then the browser's."""
    for candidate in (arg, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    ranked = sorted(
        ((quality, index, tag) for index, (tag, quality) in enumerate(accepted)),
        key=lambda item: (-item[0], item[1]),
    )
    for quality, _, tag in ranked:
        primary = tag.lower().split("-")[0].split("_")[0]
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the current request (cached on `g`)."""
    cached = g.get("dcdr_lang")
    if isinstance(cached, str):
        return cached
    lang = choose_language(
        request.args.get("lang"),
        request.cookies.get(COOKIE),
        list(request.accept_languages),
    )
    g.dcdr_lang = lang
    return lang


def remember_language(response: Response) -> Response:
    """Keeps an explicit `?lang=` choice for the following pages."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def translate(key: str, lang: str | None = None) -> str:
    """The interface string `key` in `lang` (the request's language by default)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry[lang or current_language()]


def comparator_words(local_name: str, lang: str) -> str:
    """A comparator such as `moreThan` in words; unknown comparators show their name."""
    return COMPARATOR_WORDS.get(local_name, {}).get(lang, local_name)


def pick_label(labels: Mapping[str, str], lang: str, fallback: str) -> str:
    """The label in `lang`, else in the other language, else `fallback`."""
    if lang in labels:
        return labels[lang]
    for other in LANGUAGES:
        if other in labels:
            return labels[other]
    if "" in labels:
        return labels[""]
    return fallback


def ordered_languages(lang: str) -> list[str]:
    """Both languages, the reader's first."""
    return [lang, *(other for other in LANGUAGES if other != lang)]
