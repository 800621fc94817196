"""The curated facts: labels, types, the report's own wording, relations, and integrity rules."""

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from graph.build import ASSERTED, load_sources, merged
from graph.namespaces import DCDR, ID, NIF, XSD
from graph.paths import CHECKS_DIR, FACTS_DIR, Project
from graph.validation import check_query_problems

KINDS = (
    "agency",
    "audience",
    "platform",
    "service",
    "region",
    "document",
    "initiative",
    "technology",
)

# Names as the report writes them, copied by hand from Part 4: each must be a zh label or
# altLabel of some entity, so a reader can find every entity by the report's wording.
REPORT_NAMES = [
    "国家电子政务统筹协调机制",
    "政务数据共享协调机制",
    "政府网站集约化改革试点地区",
    "全国一体化政务服务平台",
    "新疆生产建设兵团",
    "国务院办公厅",
    "关于加快推进政务服务“跨省通办”的指导意见",
    "“跨省通办”专区",
    "社保卡申领",
    "便民服务",
    "高频政务服务事项",
    "政务服务“好差评”渠道",
    "一体化平台",
    "政务服务“村村通”",
    "北京",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "广东",
    "贵州",
    "营商环境优化",
    "一网通办",
    "不见面审批",
    "政府数字化转型",
    "皖事通办",
    "数字福建",
    "数字政府改革",
    "全省通办",
    "全国一体化数据共享交换平台",
    "垂直系统",
    "数据开放平台",
    "政府门户网站",
    "电子证照共享服务系统",
    "国家发展改革委",
    "全国信用信息共享平台",
    "国家网上身份认证基础设施",
    "国家人口基础库",
    "市场监管总局",
    "国家法人单位信息资源库",
    "自然资源部",
    "国土空间基础信息平台",
    "水利部",
    "国家信访局",
    "中央国家机关",
    "住房城乡建设部",
    "区块链",
    "住房公积金数据查询服务",
    "住房公积金数据互联共享机制",
    "退役军人事务部",
    "全国退役军人基础信息数据库",
    "全国人大机关",
    "中国人大网",
    "网上信访平台",
    "“互联网+信访”",
    "国家法律法规数据库",
    "地方各级人大",
    "移动履职平台",
    "中央政府门户网站",
    "网民建言征集活动",
    "政府工作报告",
    "报告起草组",
    "纪检监察系统",
    "检举举报平台",
    "基层纪检监察机构",
    "智慧法院",
    "中国审判流程信息公开网",
    "中国庭审公开网",
    "中国裁判文书网",
    "中国移动微法院",
    "全国法院",
    "杭州互联网法院",
    "智慧检务",
    "四大检察",
    "12309中国检察网",
    "中国检察听证网",
    "全国一体化在线监管体系",
    "国家“互联网+监管”系统",
    "重点监管应用系统",
    "风险预警",
    "信用监管评价",
    "监管综合分析",
    "国家企业信用信息公示系统",
    "全国12315平台",
    "国务院“互联网+督查”平台及小程序",
    "国务院办公厅督查室",
    "党中央",
    "国务院",
    "国务院部门",
    "省级政府",
    "副省级政府",
    "地级市政府",
    "重点城市",
    "各级政府部门",
    "政府服务部门",
    "国务院有关部门",
    "有关部门",
    "数字政府建设",
    "电子证照“全国互认”",
    "以信用监管为基础的新型监管机制",
    "“互联网+监管”",
    "“互联网+督查”",
    "统一的信息资源库",
]


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return load_sources(Project.from_env())


@pytest.fixture(scope="module")
def union(graphs: dict[str, Graph]) -> Graph:
    return merged(graphs, ["ontology", "text", "facts", "links"])


def entities(graph: Graph) -> set[URIRef]:
    prefixes = tuple(str(ID[f"{kind}/"]) for kind in KINDS)
    return {
        s
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(prefixes)
    }


def zh_names(graph: Graph, node: URIRef) -> set[str]:
    return {
        str(label)
        for prop in (RDFS.label, SKOS.altLabel)
        for label in graph.objects(node, prop)
        if isinstance(label, Literal) and label.language == "zh"
    }


def test_every_entity_has_one_zh_and_one_en_label(graphs: dict[str, Graph]) -> None:
    facts = graphs["facts"]
    found = entities(facts)
    assert len(found) > 100
    for entity in found:
        languages = sorted(
            label.language or ""
            for label in facts.objects(entity, RDFS.label)
            if isinstance(label, Literal)
        )
        assert languages == ["en", "zh"], entity


def test_every_entity_is_typed_by_the_ontology(union: Graph) -> None:
    classes = set(union.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")))
    for entity in entities(union):
        types = set(union.objects(entity, RDF.type))
        assert types & classes, entity


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_report_wording_finds_an_entity(name: str, graphs: dict[str, Graph]) -> None:
    facts = graphs["facts"]
    assert any(name in zh_names(facts, entity) for entity in entities(facts)), name


def test_report_names_occur_in_the_text(union: Graph) -> None:
    context = str(union.value(ID["context/dcdr-2020-p4"], NIF.isString))
    missing = [name for name in REPORT_NAMES if name not in context]
    assert missing == []


def test_entity_sources_are_sentences_that_mention_it(union: Graph) -> None:
    # At least one zh name of an entity occurs in one of the sentences it cites.
    for entity in entities(union):
        sources = list(union.objects(entity, DCTERMS.source))
        texts = [str(union.value(s, NIF.anchorOf) or "") for s in sources]
        if entity == ID["agency/cac"]:
            continue  # named in the release titles, not in Part 4's sentences
        names = zh_names(union, entity)
        assert sources, entity
        assert any(
            name.strip("《》“”") in text or any(part in text for part in name.split("“"))
            for name in names
            for text in texts
        ), entity


def test_required_iris_exist(graphs: dict[str, Graph]) -> None:
    facts = graphs["facts"]
    observation = ID["observation/china-judgements-online-documents-2020"]
    assert (observation, DCDR.about, ID["platform/china-judgements-online"]) in facts
    assert (observation, DCDR.metric, ID["metric/documents-published"]) in facts
    assert (observation, DCDR.unit, ID["unit/document"]) in facts
    assert (observation, PROV.wasDerivedFrom, ID["sentence/p4-s4-07"]) in facts
    assert (observation, DCDR.statedAs, Literal("1.1亿份", lang="zh")) in facts
    assert (ID["agency/ndrc"], SKOS.altLabel, Literal("国家发展改革委", lang="zh")) in facts
    assert (ID["agency/cac"], RDFS.label, Literal("国家互联网信息办公室", lang="zh")) in facts


@pytest.mark.parametrize(
    ("subject", "predicate", "obj"),
    [
        ("platform/national-credit-information-sharing-platform", "operatedBy", "agency/ndrc"),
        ("platform/national-government-service-platform", "connects", "agency/xpcc"),
        (
            "document/cross-province-services-guideline",
            "issuedBy",
            "agency/state-council-general-office",
        ),
        (
            "platform/national-online-identity-authentication-infrastructure",
            "basedOn",
            "platform/national-population-database",
        ),
        (
            "initiative/housing-provident-fund-data-sharing",
            "usesTechnology",
            "technology/blockchain",
        ),
        ("platform/china-procuratorial-hearing-online", "audience", "audience/the-public"),
        (
            "platform/china-procuratorial-hearing-online",
            "provides",
            "service/procuratorial-hearing-livestreams",
        ),
        (
            "agency/national-public-complaints-administration",
            "interconnectedWith",
            "agency/petition-work-bodies",
        ),
        (
            "agency/state-council-general-office",
            "forwardsTo",
            "agency/government-work-report-drafting-group",
        ),
        ("platform/national-credit-information-sharing-platform", "connects", "agency/departments"),
        (
            "platform/internet-plus-inspection-mini-program",
            "openedBy",
            "platform/central-government-portal",
        ),
        ("initiative/shanghai-one-network-service", "initiativeOf", "region/shanghai"),
        ("platform/china-mobile-micro-court", "covers", "agency/courts-nationwide"),
        ("platform/npc-online-petition-platform", "hostedOn", "platform/npc-website"),
        (
            "platform/discipline-reporting-platform",
            "deployedIn",
            "agency/grassroots-discipline-inspection-bodies",
        ),
        (
            "platform/national-laws-regulations-database",
            "availableTo",
            "agency/local-peoples-congresses",
        ),
        ("agency/xpcc", "relatedRegion", "region/xinjiang"),
        ("platform/national-legal-entity-database", "operatedBy", "agency/samr"),
    ],
)
def test_relations_the_report_states(
    subject: str, predicate: str, obj: str, graphs: dict[str, Graph]
) -> None:
    assert (ID[subject], DCDR[predicate], ID[obj]) in graphs["facts"]


def test_the_corps_is_an_organisation_not_a_region(graphs: dict[str, Graph]) -> None:
    facts = graphs["facts"]
    assert (ID["agency/xpcc"], RDF.type, DCDR.Agency) in facts
    assert (None, DCDR.gbt2260Code, None) not in facts
    assert (ID["agency/xpcc"], None, None) not in graphs["links"]


def test_facts_files_are_split_by_topic() -> None:
    names = {path.name for path in FACTS_DIR.glob("*.ttl")}
    assert {f"observations-s{n}.ttl" for n in range(1, 7)} <= names
    assert {"agencies.ttl", "platforms.ttl", "metrics.ttl", "units.ttl"} <= names


@pytest.mark.parametrize("check", sorted(p.name for p in CHECKS_DIR.glob("facts-*.rq")))
def test_facts_integrity_rules_return_no_rows(check: str, graphs: dict[str, Graph]) -> None:
    named = {name: graphs[name] for name in ASSERTED}
    assert check_query_problems(named, [CHECKS_DIR / check]) == []


def test_integrity_rules_catch_broken_facts(union: Graph) -> None:
    broken = Graph()
    for triple in union:
        broken.add(triple)
    observation = ID["observation/national-12315-platform-visits-2020"]
    broken.remove((observation, DCDR.unit, None))
    broken.remove(
        (ID["agency/mva"], RDFS.label, Literal("Ministry of Veterans Affairs", lang="en"))
    )
    broken.set((observation, PROV.wasDerivedFrom, ID["sentence/p4-s9-99"]))

    def rows(name: str) -> int:
        return len(list(broken.query(Path(CHECKS_DIR / name).read_text(encoding="utf-8"))))

    assert rows("facts-observation-complete.rq") == 1
    assert rows("facts-entity-labels.rq") == 1
    assert rows("facts-observation-sentence.rq") == 1


def test_the_laws_database_content_cut_off_is_data(graphs: dict[str, Graph]) -> None:
    database = ID["platform/national-laws-regulations-database"]
    cut_off = Literal("2019-12-31", datatype=XSD.date)
    assert (database, DCDR.contentCutOff, cut_off) in graphs["facts"]


def test_regression_ministry_class_and_state_council_departments_differ_in_label(
    graphs: dict[str, Graph],
) -> None:
    # The class dcdr:Ministry and the agency "国务院部门" (the departments taken together) were
    # both labelled 国务院部门, so a reader could not tell one department from all of them.
    def zh(graph: Graph, node: URIRef) -> set[Literal]:
        return {o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)}

    whole = zh(graphs["facts"], ID["agency/state-council-departments"])
    assert whole and not whole & zh(graphs["ontology"], DCDR.Ministry)


def test_background_speaks_only_of_entities_that_exist(graphs: dict[str, Graph]) -> None:
    # Short forms and memberships are for entities of `facts`; only the two bodies the report
    # does not name are typed in `background` itself.
    background, facts = graphs["background"], graphs["facts"]
    typed_here = set(background.subjects(RDF.type, None))
    unknown = {
        node
        for node in set(background.subjects()) | set(background.objects())
        if isinstance(node, URIRef)
        and str(node).startswith(str(ID))
        and (node, RDF.type, None) not in facts
        and node not in typed_here
    }
    assert typed_here == {
        ID["agency/supreme-peoples-court"],
        ID["agency/supreme-peoples-procuratorate"],
    }
    assert unknown == set()


def test_bodies_the_report_does_not_name_are_background(graphs: dict[str, Graph]) -> None:
    court = ID["agency/supreme-peoples-court"]
    assert (court, None, None) not in graphs["facts"]
    assert (court, RDF.type, DCDR.Court) in graphs["background"]


# --- The two rules of "facts holds only what the report states", on small named graphs -------

NAMED_IN_SOURCE = CHECKS_DIR / "facts-entity-named-in-source.rq"
NAMED_TOGETHER = CHECKS_DIR / "facts-relation-named-together.rq"
S1, S2 = ID["sentence/p4-s9-01"], ID["sentence/p4-s9-02"]
NDRC, CREDIT = ID["agency/ndrc"], ID["platform/national-credit-information-sharing-platform"]
BEIJING, COURT = ID["region/beijing"], ID["agency/supreme-peoples-court"]


def _sentences() -> Graph:
    text = Graph()
    for sentence, anchor in (
        (S1, "国家发展改革委持续推进全国信用信息共享平台建设。"),
        (S2, "北京“营商环境优化”等创新举措不断涌现。"),
    ):
        text.add((sentence, RDF.type, NIF.Sentence))
        text.add((sentence, NIF.anchorOf, Literal(anchor)))
    return text


def _entity(graph: Graph, node: URIRef, name: str, source: URIRef) -> None:
    graph.add((node, RDF.type, DCDR.Agency))
    graph.add((node, RDFS.label, Literal(name, lang="zh")))
    graph.add((node, DCTERMS.source, source))


def _valid_facts() -> Graph:
    facts = Graph()
    _entity(facts, NDRC, "国家发展和改革委员会", S1)
    facts.add((NDRC, SKOS.altLabel, Literal("国家发展改革委", lang="zh")))
    _entity(facts, CREDIT, "全国信用信息共享平台", S1)
    _entity(facts, BEIJING, "北京市", S2)
    facts.add((BEIJING, SKOS.altLabel, Literal("北京", lang="zh")))
    facts.add((CREDIT, DCDR.operatedBy, NDRC))
    return facts


def _problems(check: Path, facts: Graph, background: Graph | None = None) -> list[str]:
    named = {"text": _sentences(), "facts": facts, "background": background or Graph()}
    return [problem.focus for problem in check_query_problems(named, [check])]


def test_named_rules_pass_on_valid_facts() -> None:
    assert (
        _problems(NAMED_IN_SOURCE, _valid_facts()) + _problems(NAMED_TOGETHER, _valid_facts()) == []
    )


def test_entity_cited_sentence_that_does_not_name_it_fails() -> None:
    facts = _valid_facts()
    _entity(facts, COURT, "最高人民法院", S1)
    assert _problems(NAMED_IN_SOURCE, facts) == ["id:agency/supreme-peoples-court"]


def test_entity_the_report_does_not_name_may_live_in_background() -> None:
    background = Graph()
    _entity(background, COURT, "最高人民法院", URIRef("https://www.court.gov.cn/"))
    assert _problems(NAMED_IN_SOURCE, _valid_facts(), background) == []


def test_relation_whose_ends_no_sentence_names_together_fails() -> None:
    facts = _valid_facts()
    facts.add((CREDIT, DCDR.connects, BEIJING))
    problems = check_query_problems({"text": _sentences(), "facts": facts}, [NAMED_TOGETHER])
    assert [(p.focus, "dcdr:connects" in p.message) for p in problems] == [
        ("id:platform/national-credit-information-sharing-platform", True)
    ]


def test_relation_not_stated_by_the_report_may_live_in_background() -> None:
    background = Graph()
    background.add((BEIJING, DCDR.partOf, ID["region/china"]))
    background.add((ID["region/china"], RDFS.label, Literal("中华人民共和国", lang="zh")))
    assert _problems(NAMED_TOGETHER, _valid_facts(), background) == []
