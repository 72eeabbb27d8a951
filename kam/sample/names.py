"""Name pools for the sample quarter: cities, company names, people, projects, phrases.

Every draw takes the caller's `random.Random`, so a seed gives the same names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kam.forms import NATURE
from kam.uscc import make_uscc, uscc_check_char


@dataclass(frozen=True)
class City:
    """A city customers are registered in, with what its names and numbers look like."""

    name: str  # 成都市
    province: str  # 四川省 ("" for a municipality)
    short: str  # 成都
    code: str  # GB/T 2260 division code of the city
    area: str  # telephone area code
    pinyin: str
    districts: tuple[str, ...]
    brands: tuple[str, ...]  # local names city companies are called by (浦江, 天府 …)


_CITY_TABLE = """
上海市||310000|021|shanghai|浦东新区 闵行区 嘉定区 松江区 徐汇区|浦江 申江 临港
南京市|江苏省|320100|025|nanjing|江北新区 建邺区 江宁区 栖霞区|金陵 秦淮 紫金
苏州市|江苏省|320500|0512|suzhou|工业园区 吴中区 相城区 高新区|姑苏 金鸡湖 吴淞
杭州市|浙江省|330100|0571|hangzhou|滨江区 萧山区 余杭区 西湖区|钱江 西湖 之江
合肥市|安徽省|340100|0551|hefei|蜀山区 包河区 滨湖新区 高新区|庐州 巢湖 滨湖
福州市|福建省|350100|0591|fuzhou|鼓楼区 仓山区 长乐区 马尾区|闽江 榕城 海峡
广州市|广东省|440100|020|guangzhou|天河区 黄埔区 番禺区 南沙区|珠江 羊城 南沙
深圳市|广东省|440300|0755|shenzhen|南山区 福田区 宝安区 龙岗区|鹏城 前海 深港
南宁市|广西壮族自治区|450100|0771|nanning|青秀区 良庆区 西乡塘区|邕江 绿城 五象
海口市|海南省|460100|0898|haikou|龙华区 美兰区 秀英区|椰城 琼州 滨海
成都市|四川省|510100|028|chengdu|高新区 天府新区 锦江区 武侯区 双流区|天府 蓉城 锦城
重庆市||500000|023|chongqing|渝北区 两江新区 九龙坡区 江北区|渝富 两江 山城
昆明市|云南省|530100|0871|kunming|呈贡区 官渡区 五华区 盘龙区|滇池 春城 云岭
贵阳市|贵州省|520100|0851|guiyang|观山湖区 南明区 云岩区 花溪区|筑城 黔中 林城
北京市||110000|010|beijing|朝阳区 海淀区 丰台区 大兴区 通州区|京城 首都 燕京
天津市||120000|022|tianjin|滨海新区 河西区 南开区 东丽区|津门 海河 渤海
石家庄市|河北省|130100|0311|shijiazhuang|长安区 桥西区 裕华区|冀中 燕赵 正定
太原市|山西省|140100|0351|taiyuan|小店区 迎泽区 万柏林区|晋阳 汾河 龙城
西安市|陕西省|610100|029|xian|雁塔区 未央区 长安区 高新区|长安 秦川 曲江
兰州市|甘肃省|620100|0931|lanzhou|城关区 七里河区 安宁区|金城 陇原 黄河
银川市|宁夏回族自治区|640100|0951|yinchuan|金凤区 兴庆区 西夏区|塞上 贺兰 凤城
乌鲁木齐市|新疆维吾尔自治区|650100|0991|wulumuqi|天山区 沙依巴克区 新市区|天山 丝路 西域
沈阳市|辽宁省|210100|024|shenyang|浑南区 和平区 铁西区 沈河区|盛京 浑河 辽河
长春市|吉林省|220100|0431|changchun|南关区 朝阳区 净月区|长白 吉长 北春
哈尔滨市|黑龙江省|230100|0451|haerbin|南岗区 松北区 道里区 香坊区|松花江 冰城 龙江
武汉市|湖北省|420100|027|wuhan|江汉区 洪山区 东湖高新区 汉阳区|江城 楚天 长江
长沙市|湖南省|430100|0731|changsha|岳麓区 雨花区 开福区 天心区|湘江 星城 麓山
"""
"""name | province ("" for a municipality) | division code | area code | pinyin | districts |
brands, one city a line."""


def _cities(table: str) -> dict[str, City]:
    cities: dict[str, City] = {}
    for line in table.strip().splitlines():
        name, province, code, area, pinyin, districts, brands = line.split("|")
        short = name.removesuffix("市")
        cities[short] = City(
            name,
            province,
            short,
            code,
            area,
            pinyin,
            tuple(districts.split()),
            tuple(brands.split()),
        )
    return cities


CITIES: dict[str, City] = _cities(_CITY_TABLE)

BRANCHES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("华东分公司", "HD", ("上海", "南京", "苏州", "杭州", "合肥", "福州")),
    ("华南分公司", "HN", ("广州", "深圳", "南宁", "海口")),
    ("西南分公司", "XN", ("成都", "重庆", "昆明", "贵阳")),
    ("北方分公司", "BF", ("北京", "天津", "石家庄", "太原")),
    ("第一工程公司", "YG", ("上海", "武汉", "长沙", "合肥", "南京")),
    ("西北分公司", "XB", ("西安", "兰州", "银川", "乌鲁木齐")),
    ("第二工程公司", "EG", ("广州", "成都", "重庆", "长沙", "昆明")),
    ("东北分公司", "DB", ("沈阳", "长春", "哈尔滨", "天津")),
    ("第三工程公司", "SG", ("武汉", "西安", "北京", "深圳")),
    ("国际工程公司", "GJ", ("深圳", "上海", "海口", "昆明")),
    ("城市更新公司", "GX", ("上海", "广州", "成都", "西安")),
    ("基础设施公司", "JS", ("北京", "重庆", "南京", "沈阳")),
)
"""(branch, contract-number prefix, cities it works in); the first N make a quarter."""

FAKE_BRANCH = "华中分公司"
"""The unit whose 'workbook' is really a CSV file (rejected as unreadable)."""

HQ_UNIT = "集团市场经营部"

GOV, INST, SOE, PRIVATE, FOREIGN, OTHER = NATURE.values

# (field as it appears in a company name, 所属行业, 主营业务)
SOE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("城市建设投资", "城市建设", "城市基础设施投资、建设与运营"),
    ("城市建设开发", "城市建设", "片区综合开发、土地整理与市政配套建设"),
    ("交通投资", "交通运输", "高速公路、国省干线投资建设与运营管理"),
    ("轨道交通", "轨道交通", "城市轨道交通线网投资、建设与运营"),
    ("水务环境", "水利水务", "供排水、污水处理及水环境综合治理"),
    ("城市更新", "城市更新", "老旧片区改造、保障性住房建设与运营"),
    ("产业园区开发", "产业园区", "产业园区规划、开发建设与招商运营"),
    ("文化旅游发展", "文化旅游", "文旅项目投资开发与景区运营"),
    ("能源", "能源电力", "清洁能源项目投资、建设与运营"),
    ("港务", "港口航运", "港口码头投资、建设与港航物流"),
    ("国有资本运营", "综合投资", "国有资本运营与重大项目投融资"),
    ("安居", "房地产", "保障性租赁住房与人才公寓建设运营"),
)
PROVINCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("交通投资", "交通运输", "全省高速公路、铁路、机场等交通基础设施投资与运营"),
    ("铁路投资", "轨道交通", "省内铁路、城际轨道项目投资与建设管理"),
    ("水利投资", "水利水务", "重大水利工程投资、建设与运营"),
    ("能源投资", "能源电力", "电源、电网及新能源项目投资建设"),
    ("高速公路建设开发", "交通运输", "高速公路建设、养护与运营管理"),
)
SOE_FORMS = ("有限公司", "集团有限公司", "有限责任公司", "集团有限责任公司", "股份有限公司")
PRIVATE_BRANDS = (
    "恒信", "鼎盛", "嘉禾", "锦程", "远景", "泰和", "宏达", "瑞丰", "誉辰", "华宇",
    "中梁", "祥生", "金辉", "德信", "卓越", "美的", "正荣", "新希望", "东原", "融信",
)  # fmt: skip
PRIVATE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("置业", "房地产", "房地产开发与经营"),
    ("房地产开发", "房地产", "住宅及商业地产开发"),
    ("实业", "综合投资", "实业投资、商业运营与物业管理"),
    ("新能源科技", "能源电力", "光伏、储能电站投资建设"),
    ("数据科技", "信息技术", "数据中心投资建设与运营"),
    ("医疗投资", "医疗卫生", "民营医院投资建设与运营"),
)
PRIVATE_FORMS = ("有限公司", "集团股份有限公司", "股份有限公司", "集团有限公司")
FOREIGN_BRANDS = ("博维", "凯德", "嘉里", "太古", "新鸿基", "普洛斯", "丰树", "安博")
GOV_AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("住房和城乡建设局", "政府投资", "城乡建设管理、政府投资房建项目组织实施"),
    ("交通运输局", "交通运输", "交通基础设施规划建设与行业管理"),
    ("水务局", "水利水务", "水利工程建设管理与水资源保护"),
    ("城市管理局", "市政公用", "市政设施管理与城市环境提升"),
)
INST_UNITS: tuple[tuple[str, str, str], ...] = (
    ("重点工程建设管理中心", "政府投资", "市级重点工程代建与建设管理"),
    ("公路事务中心", "交通运输", "公路建设养护与路政服务"),
    ("第一人民医院", "医疗卫生", "医疗服务与院区建设管理"),
    ("职业技术学院", "教育", "高等职业教育与校区建设"),
    ("城市排水管理中心", "水利水务", "排水设施运行维护与改造"),
)

SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
)  # fmt: skip
GIVEN = (
    ("伟", "wei"), ("芳", "fang"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("辉", "hui"),
    ("建", "jian"), ("国", "guo"), ("志", "zhi"), ("海", "hai"), ("文", "wen"),
    ("晓", "xiao"), ("俊", "jun"), ("红", "hong"), ("宇", "yu"), ("鹏", "peng"),
)  # fmt: skip

STAFF_TITLES = ("大客户经理", "市场部经理", "市场部副经理", "副总经理", "总经济师")
CLIENT_TITLES = (
    "董事长", "总经理", "副总经理", "总工程师", "工程管理部部长", "采购部经理",
    "合约部经理", "计划财务部部长", "项目建设部主任",
)  # fmt: skip
GOV_TITLES = ("局长", "副局长", "处长", "建设科科长", "主任", "副主任")
TOP_TITLES = frozenset({"董事长", "总经理", "局长", "主任", "副总经理", "副局长"})
ROADS = (
    "人民路", "建设大道", "世纪大道", "科技路", "滨江路", "中山路", "解放路", "新华路",
    "金融街", "创新大道", "长江路", "文化路", "迎宾大道", "高新大道",
)  # fmt: skip
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


def person(rng: random.Random) -> tuple[str, str]:
    """A Chinese name and the pinyin handle an e-mail address would use."""
    sur, sur_py = rng.choice(SURNAMES)
    parts = rng.sample(GIVEN, 1 if rng.random() < 0.35 else 2)
    given = "".join(p[0] for p in parts)
    handle = sur_py + "".join(p[1][0] for p in parts)
    return sur + given, handle


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, city: City) -> str:
    return f"{city.area}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"


def email(rng: random.Random, handle: str, domain: str) -> str:
    return f"{handle}{rng.choice(['', '', str(rng.randint(1, 99))])}@{domain}"


def domain(rng: random.Random, city: City, nature: str) -> str:
    letters = "".join(rng.choice("abcdefghjkmnpqrstwxyz") for _ in range(rng.randint(2, 4)))
    if nature in (GOV, INST):
        return f"{letters}.{city.pinyin}.gov.cn"
    return f"{city.pinyin[:2]}{letters}.{rng.choice(['com.cn', 'com', 'cn'])}"


def address(rng: random.Random, city: City) -> str:
    district = rng.choice(city.districts)
    return f"{city.province}{city.name}{district}{rng.choice(ROADS)}{rng.randint(1, 999)}号"


@dataclass(frozen=True)
class Company:
    """A customer's identity: name, nature, industry, business, city and USCC dept/category."""

    name: str
    nature: str
    industry: str
    business: str
    city: City
    dept: str  # USCC registration department + category, e.g. "91"


def company(rng: random.Random, city: City) -> Company:
    """A believable Chinese organisation name with matching nature and industry."""
    roll = rng.random()
    if roll < 0.42:
        field, industry, business = rng.choice(SOE_FIELDS)
        brand = rng.choice(city.brands) if rng.random() < 0.6 else ""
        name = f"{city.name if not brand else city.short}{brand}{field}{rng.choice(SOE_FORMS)}"
        return Company(name, SOE, industry, business, city, "91")
    if roll < 0.52:
        field, industry, business = rng.choice(PROVINCE_FIELDS)
        name = f"{city.province or city.name}{field}{rng.choice(SOE_FORMS[1:4])}"
        return Company(name, SOE, industry, business, city, "91")
    if roll < 0.72:
        field, industry, business = rng.choice(PRIVATE_FIELDS)
        brand = rng.choice(PRIVATE_BRANDS)
        prefix = city.short if rng.random() < 0.5 else ""
        name = f"{prefix}{brand}{field}{rng.choice(PRIVATE_FORMS)}"
        return Company(name, PRIVATE, industry, business, city, "91")
    if roll < 0.78:
        brand = rng.choice(FOREIGN_BRANDS)
        name = f"{brand}（{city.short}）置业有限公司"
        return Company(name, FOREIGN, "房地产", "商业综合体与物流园区开发运营", city, "91")
    if roll < 0.88:
        agency, industry, business = rng.choice(GOV_AGENCIES)
        district = rng.choice(city.districts)
        name = f"{city.name}{district if rng.random() < 0.4 else ''}{agency}"
        return Company(name, GOV, industry, business, city, "11")
    if roll < 0.97:
        unit, industry, business = rng.choice(INST_UNITS)
        return Company(f"{city.name}{unit}", INST, industry, business, city, "12")
    name = f"{city.name}重大项目建设指挥部"
    return Company(name, OTHER, "政府投资", "市级重大项目统筹协调与建设管理", city, "19")


@dataclass
class Registry:
    """Codes and names already given out, so that distinct customers never collide."""

    codes: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def company(self, rng: random.Random, city: City) -> tuple[Company, str]:
        """A new customer identity and its valid USCC."""
        while True:
            co = company(rng, city)
            if co.name not in self.names:
                self.names.add(co.name)
                return co, self.code(rng, co)

    def code(self, rng: random.Random, co: Company) -> str:
        while True:
            base = make_uscc(rng, dept=co.dept[0])
            code17 = co.dept + co.city.code + base[8:17]
            code = code17 + uscc_check_char(code17)
            if code not in self.codes:
                self.codes.add(code)
                return code


PROJECT_KINDS: dict[str, tuple[str, ...]] = {
    "城市建设": ("{d}片区综合开发EPC总承包", "{r}综合管廊工程", "{d}安置房项目施工总承包"),
    "交通运输": ("{c}{r}快速化改造工程", "{c}绕城高速{n}标段土建工程", "{d}互通立交工程"),
    "轨道交通": ("{c}地铁{n}号线土建{m}标段", "{c}市域铁路{d}站房工程"),
    "水利水务": ("{d}污水处理厂提标改造工程", "{d}水系连通及水环境治理工程"),
    "城市更新": ("{d}老旧小区改造工程", "{d}城中村改造一期工程"),
    "产业园区": ("{d}智能制造产业园一期工程", "{d}科创园标准厂房工程"),
    "文化旅游": ("{d}文旅小镇建设项目", "{c}博物馆新馆工程"),
    "能源电力": ("{d}分布式光伏EPC总承包", "{c}储能电站工程"),
    "港口航运": ("{c}港区{n}号泊位工程", "{c}港疏港公路工程"),
    "房地产": ("{d}{b}府项目施工总承包", "{d}{b}中心商业综合体工程"),
    "医疗卫生": ("{c}医院新院区建设工程", "{d}医疗中心门诊楼工程"),
    "教育": ("{c}新校区一期建设工程", "{d}实训楼工程"),
}
DEFAULT_PROJECTS = ("{d}市政道路提升工程", "{d}公共服务中心工程", "{r}沿线景观提升工程")


def project(rng: random.Random, co: Company) -> str:
    """A project name fitting the customer's industry and city."""
    pattern = rng.choice(PROJECT_KINDS.get(co.industry, DEFAULT_PROJECTS))
    return pattern.format(
        c=co.city.short,
        d=rng.choice(co.city.districts),
        r=rng.choice(ROADS),
        n=rng.randint(1, 12),
        m=rng.randint(1, 8),
        b=rng.choice(co.city.brands),
    )


ORG_CHAINS = (
    "董事长—总经理—分管副总—工程管理部",
    "党委会前置研究，总经理办公会决策，招采中心组织实施",
    "局长办公会决策，建设科具体负责，财务科审核支付",
    "董事会审批重大投资，总经理负责执行，合约部牵头招标",
    "主任办公会决策，工程处负责实施",
    "集团总部审批，项目公司负责执行",
)
NEEDS = (
    "工期要求紧，重视节点考核",
    "注重质量创优与安全文明施工",
    "关注投融资模式（EPC+F）",
    "希望提供设计施工一体化服务",
    "重视绿色建造与装配式技术",
    "付款审批流程长，需提前对接",
    "重视属地纳税与本地用工",
)
RISK_NOTES = (
    "地方财政压力较大，付款节奏偏慢",
    "暂无明显风险",
    "领导班子近期有调整",
    "项目审批手续尚未完备",
    "竞争对手报价激进",
    "资金链需持续关注",
)
REMARKS = ("年度重点跟踪客户", "已签订框架协议", "需加强高层互动", "新纳入名录", "集团统筹维护")
PURPOSES = (
    "项目洽谈",
    "年度走访",
    "合同签约",
    "技术交流",
    "工程进度汇报",
    "回款对接",
    "新项目推介",
)
RESULTS = (
    "达成合作意向",
    "确定下一步对接人",
    "已形成会议纪要",
    "客户认可实施方案",
    "待客户内部决策",
)
SUMMARIES: dict[str, tuple[str, ...]] = {
    "拜访": ("上门走访，沟通下半年投资计划", "拜访工程部，了解新项目招标安排"),
    "电话": ("电话沟通回款安排", "电话确认结算资料报送时间"),
    "视频": ("视频会议对接设计变更", "视频会议通报工程进度"),
    "邮件": ("邮件报送月度进度报告", "邮件回复客户质量整改要求"),
    "会议": ("参加客户年度供应商大会", "参加项目协调会"),
    "高层互动": ("双方高层会谈，商定战略合作事项", "公司领导拜访客户主要负责人"),
    "活动": ("邀请客户参加观摩工地活动", "联合举办安全生产月活动"),
}
ISSUES = (
    "要求提前完成主体结构封顶",
    "对结算资料提出补充要求",
    "希望增派技术人员驻场",
    "关注安全文明施工整改",
    "要求优化施工组织方案",
)
RISK_TEXTS: dict[str, tuple[str, str]] = {
    "决策层变更": ("客户主要负责人调整，新领导尚未明确合作态度", "尽快安排高层拜访"),
    "资金链紧张": ("客户融资受限，部分项目资金未落实", "加强回款跟踪，控制垫资规模"),
    "履约能力下降": ("客户多个项目停工，履约能力下降", "评估在建项目风险，暂缓新签"),
    "社会风险": ("项目周边群众信访，存在停工风险", "配合客户做好沟通解释"),
    "破产征兆": ("客户被列为失信被执行人，出现破产征兆", "立即上报集团，启动债权保全"),
    "付款延迟": ("进度款连续两期延迟支付", "发函催收，必要时调整施工节奏"),
    "合作中断": ("客户新项目改为公开招标，合作可能中断", "跟进招标信息，准备投标"),
    "竞争对手介入": ("同行央企主动对接客户新项目", "提升服务，巩固合作关系"),
    "其他": ("客户内部机构改革，对接部门调整", "重新梳理对接人"),
}
