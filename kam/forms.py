"""The one declarative definition of the branch submission forms (DOMAIN §2).

Every header, type, enum, requirement, key and cross-sheet reference is written here once.
The template generator, the tolerant reader, the validators and the register columns all
read these objects; no other module spells a header.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

TEMPLATE_VERSION = "1.0"
"""Written into 报送信息!模板版本; a file whose major version differs is rejected."""


class Kind(StrEnum):
    """How a column's cells are read and checked."""

    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"
    USCC = "uscc"
    PHONE = "phone"
    EMAIL = "email"
    ENUM = "enum"
    QUARTER = "quarter"


class DateBound(StrEnum):
    """The latest date a date field may hold."""

    TODAY = "today"
    AS_OF = "as_of"


@dataclass(frozen=True)
class Choices:
    """An enum's allowed values; `name` is the workbook defined name its dropdown reads."""

    name: str
    values: tuple[str, ...]


NATURE = Choices(
    "list_nature", ("政府机关", "事业单位", "国有企业", "民营企业", "外资企业", "其他")
)
TIER = Choices("list_tier", ("集团级", "分公司级", "项目级"))
YES_NO = Choices("list_yes_no", ("是", "否"))
PAY_STATUS = Choices("list_pay_status", ("按时", "逾期", "未到期"))
MAINT_METHOD = Choices(
    "list_maint_method", ("拜访", "电话", "视频", "邮件", "会议", "高层互动", "活动")
)
RISK_TYPE = Choices(
    "list_risk_type",
    (
        "决策层变更",
        "资金链紧张",
        "履约能力下降",
        "社会风险",
        "破产征兆",
        "付款延迟",
        "合作中断",
        "竞争对手介入",
        "其他",
    ),
)
RISK_LEVEL = Choices("list_risk_level", ("高", "中", "低"))
ALL_CHOICES: tuple[Choices, ...] = (
    NATURE,
    TIER,
    YES_NO,
    PAY_STATUS,
    MAINT_METHOD,
    RISK_TYPE,
    RISK_LEVEL,
)

UNMET_TIER = "未达标"
"""The computed tier of a customer below the key-account bar (not a recordable tier)."""


@dataclass(frozen=True)
class Field:
    """One column (or one label of a label/value sheet) of a form."""

    id: str
    header: str
    kind: Kind = Kind.TEXT
    required: bool = False
    expected: bool = False  # counted by 档案完整率 (completeness)
    choices: Choices | None = None
    min_len: int | None = None
    max_len: int | None = None
    minimum: float | None = None
    exclusive_minimum: bool = False
    not_after: DateBound | None = None
    not_before: str | None = None  # id of a date field this one may not precede
    required_when: tuple[str, str] | None = None  # (field id, value) that makes it required
    ref: str | None = None  # id of the form whose key this value must exist in
    unique: bool = False
    computed: bool = False  # a helper column the template or the add-in fills
    width: float = 14
    help: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def letter_width(self) -> float:
        """Column width in Excel character units."""
        return self.width


@dataclass(frozen=True)
class Form:
    """One sheet of the submission workbook."""

    id: str
    sheet: str
    fields: tuple[Field, ...]
    help: str = ""
    pairs: bool = False  # label/value pairs in A:B instead of a table
    empty_ok: bool = False  # an empty sheet is valid (it still must exist)
    _index: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({f.id: f for f in self.fields})

    def __getitem__(self, field_id: str) -> Field:
        return self._index[field_id]

    def __contains__(self, field_id: object) -> bool:
        return field_id in self._index

    @property
    def data_fields(self) -> tuple[Field, ...]:
        """The fields users fill (helper columns excluded)."""
        return tuple(f for f in self.fields if not f.computed)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(f.header for f in self.fields)

    def extended(self, id: str, sheet: str, extra: tuple[Field, ...], help: str = "") -> Form:
        """A new form with these fields after this form's data fields (e.g. the register)."""
        return replace(self, id=id, sheet=sheet, fields=self.data_fields + extra, help=help)


def _uscc(**kw: object) -> Field:
    return Field(
        "uscc",
        "统一社会信用代码",
        Kind.USCC,
        required=True,
        width=22,
        help="18 位统一社会信用代码（GB 32100-2015），字母大写",
        **kw,  # type: ignore[arg-type]
    )


INFO = Form(
    "info",
    "报送信息",
    (
        Field("unit", "报送单位", required=True, width=28, help="填写本分公司全称"),
        Field("quarter", "报送季度", Kind.QUARTER, required=True, help="格式如 2026Q3"),
        Field("filler", "填报人", required=True),
        Field("phone", "联系电话", Kind.PHONE, required=True, help="手机或带区号的座机"),
        Field(
            "submitted_on",
            "报送日期",
            Kind.DATE,
            required=True,
            not_after=DateBound.TODAY,
            help="不得晚于今天",
        ),
        Field("version", "模板版本", required=True, help="由模板生成，请勿修改"),
    ),
    help="A 列为项目，B 列填写内容",
    pairs=True,
)

ROSTER = Form(
    "roster",
    "大客户名录",
    (
        Field("name", "客户名称", required=True, min_len=2, max_len=100, width=30),
        _uscc(unique=True),
        Field("nature", "客户性质", Kind.ENUM, required=True, choices=NATURE, width=12),
        Field("industry", "所属行业", width=14),
        Field("tier", "大客户等级", Kind.ENUM, required=True, choices=TIER, width=12),
        Field(
            "unit",
            "责任单位",
            required=True,
            width=24,
            help="除集团级客户外，应与报送单位一致",
        ),
        Field("owner", "责任人", required=True, width=10),
        Field("owner_title", "责任人职务", width=12),
        Field("phone", "联系电话", Kind.PHONE, required=True, width=16),
        Field("strategic", "战略合作协议", Kind.ENUM, required=True, choices=YES_NO, width=12),
        Field(
            "listed_on",
            "纳入名录日期",
            Kind.DATE,
            required=True,
            not_after=DateBound.AS_OF,
            width=13,
        ),
        Field("remark", "备注", width=20),
        Field("ref_tier", "参考等级", computed=True, width=11, help="按合同台账自动计算，勿填"),
        Field("calc_tier", "计算等级", computed=True, width=11),
        Field("tier_reason", "等级依据", computed=True, width=40),
    ),
    help="每个大客户一行；统一社会信用代码在本表内唯一",
)

CONTRACTS = Form(
    "contracts",
    "合同台账",
    (
        _uscc(ref="roster"),
        Field("contract_no", "合同编号", required=True, unique=True, width=16),
        Field("project", "项目名称", required=True, width=30),
        Field(
            "signed_on", "签订日期", Kind.DATE, required=True, not_after=DateBound.AS_OF, width=12
        ),
        Field(
            "amount",
            "单项合同额（万元）",
            Kind.NUMBER,
            required=True,
            minimum=0,
            exclusive_minimum=True,
            width=16,
            help="单位：万元，须大于 0",
        ),
        Field("pay_status", "付款状态", Kind.ENUM, required=True, choices=PAY_STATUS, width=10),
        Field(
            "overdue_days",
            "逾期天数",
            Kind.INTEGER,
            minimum=0,
            width=10,
            help="付款状态为逾期时填写大于 0 的天数，否则留空或填 0",
        ),
        Field("receivable", "应收余额（万元）", Kind.NUMBER, minimum=0, width=16),
    ),
    help="每份合同一行；合同编号在本表内唯一",
)

CARDS = Form(
    "cards",
    "信息登记卡",
    (
        _uscc(ref="roster", unique=True),
        Field("address", "注册地址", expected=True, width=30),
        Field("business", "主营业务", expected=True, width=24),
        Field("org_chain", "组织架构与决策链", expected=True, width=30),
        Field("contact", "关键联系人", expected=True, width=12),
        Field("contact_title", "联系人职务", expected=True, width=12),
        Field("contact_phone", "联系人电话", Kind.PHONE, expected=True, width=16),
        Field("contact_email", "联系人邮箱", Kind.EMAIL, width=22),
        Field("history", "合作历史", expected=True, width=30),
        Field("needs", "需求特点", expected=True, width=24),
        Field("risks", "潜在风险", expected=True, width=24),
    ),
    help="每个客户一张卡（一行）；除邮箱外各项均应填写，档案完整率目标 ≥ 98%",
)

RECEPTION = Form(
    "reception",
    "接待登记表",
    (
        Field("date", "日期", Kind.DATE, required=True, not_after=DateBound.TODAY, width=12),
        _uscc(ref="roster"),
        Field("visitor", "来访人员", required=True, width=14),
        Field("visitor_title", "来访人职务", width=12),
        Field("host", "接待人", required=True, width=10),
        Field("host_title", "接待人职务", width=12),
        Field("top_level", "高层接触", Kind.ENUM, required=True, choices=YES_NO, width=10),
        Field("purpose", "事由", required=True, width=24),
        Field("result", "结果", width=24),
    ),
)

MAINTENANCE = Form(
    "maintenance",
    "维护管理登记表",
    (
        Field("date", "日期", Kind.DATE, required=True, not_after=DateBound.TODAY, width=12),
        _uscc(ref="roster"),
        Field("method", "维护方式", Kind.ENUM, required=True, choices=MAINT_METHOD, width=10),
        Field("unit", "维护单位", required=True, width=24, help="实际开展维护的单位"),
        Field("summary", "内容摘要", required=True, width=30),
        Field("issue", "客户问题或需求", width=24),
        Field("deadline", "响应时限", Kind.DATE, width=12),
        Field("owner", "责任人", required=True, width=10),
        Field("closed", "是否闭环", Kind.ENUM, choices=YES_NO, width=10),
        Field(
            "closed_on",
            "闭环日期",
            Kind.DATE,
            required_when=("closed", "是"),
            not_before="date",
            not_after=DateBound.TODAY,
            width=12,
            help="是否闭环为“是”时必填，且不早于日期",
        ),
    ),
)

RISK = Form(
    "risk",
    "风险分析报告",
    (
        _uscc(ref="roster"),
        Field("risk_type", "风险类型", Kind.ENUM, required=True, choices=RISK_TYPE, width=14),
        Field("level", "风险等级", Kind.ENUM, required=True, choices=RISK_LEVEL, width=10),
        Field(
            "found_on", "发现日期", Kind.DATE, required=True, not_after=DateBound.TODAY, width=12
        ),
        Field("description", "风险描述", required=True, width=36),
        Field("measures", "应对措施", width=30),
        Field("reported", "是否已上报", Kind.ENUM, choices=YES_NO, width=10),
    ),
    help="本季度无风险时保留表头、不填数据即可；不得删除本表",
    empty_ok=True,
)

TABLE_FORMS: tuple[Form, ...] = (ROSTER, CONTRACTS, CARDS, RECEPTION, MAINTENANCE, RISK)
"""The data sheets of a submission, in template order."""

FORMS: tuple[Form, ...] = (INFO, *TABLE_FORMS)
FORMS_BY_ID: dict[str, Form] = {f.id: f for f in FORMS}
KEY_FORM = ROSTER
"""The form whose 统一社会信用代码 is the key other sheets refer to."""
