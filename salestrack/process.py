"""The department's sales process (shared/sales-process.md) as data: roles,
stages, win probabilities, customer classes and lead sources. Labels are the
department's Chinese words; English comes from the translation catalogue."""
from dataclasses import dataclass



@dataclass(frozen=True)
class Stage:
    code: str
    number: int | None  # 1..8 for the funnel, None for the end states
    label: str
    customer_step: str
    milestone: str
    group: str  # toolkit group of sheets belonging to this stage


# The toolkit (004) words the customer's steps two ways: its eight-step
# 客户内部采购流程 (1 发现问题，提出问题 … 7 合同审核，合作谈判, 8 双方商定，签约成交)
# and its success path (1 发现问题，提出需求 … 7 合作谈判, 8 签约). The table
# below mixes them, as sales-process.md does: step 1 from the path, steps 7
# and 8 from the list. Its supplier line for stage 7 reads 合作谈判 while our
# stage is 商务谈判. Stage 4's milestone is 业绩展示; 方案演示与业绩展示 is the
# supplier's action in that stage (paper-forms-toolkit.md Part 2, sales-process
# #1 and #2), which 客户拜访总结报告 still offers as its 拜访处在哪个阶段.
STAGES = (
    Stage("lead", 1, "项目立项", "发现问题，提出需求", "有兴趣", "电话邀约型"),
    Stage("contact", 2, "初步接触", "分析研讨，确定预算", "找对经手人士", "上门拜访型"),
    Stage("design", 3, "方案设计", "项目立项，组建小组", "客户化的初步方案", "初步方案型"),
    Stage("showcase", 4, "业绩展示", "建立标准，稳定目标", "业绩展示", "业绩展示型"),
    Stage("confirm", 5, "方案确认", "确定招标，初步筛选", "正式方案的提交", "方案设计型"),
    Stage("evaluate", 6, "项目评估", "认准首选，筛供应商", "项目评估", "项目评估型"),
    Stage("negotiate", 7, "商务谈判", "合同审核，合作谈判", "合作谈判", "合作谈判型"),
    Stage("won", 8, "签约成交", "双方商定，签约成交", "签约成交", "签约成交型"),
    Stage("lost", None, "丢单/放弃", "", "", ""),
    Stage("postponed", None, "延期", "", "", ""),
)
STAGE_BY_CODE = {s.code: s for s in STAGES}
FUNNEL_STAGES = tuple(s for s in STAGES if s.number)
OPEN_STAGES = tuple(s.code for s in STAGES if s.number and s.code != "won")
END_STAGES = ("won", "lost")
GROUPS = tuple(s.group for s in FUNNEL_STAGES)


def stage_label(code: str | None) -> str:
    stage = STAGE_BY_CODE.get(code or "")
    return stage.label if stage else (code or "")


# 签约概率, judged from the customer's behaviour (000 备注 A; a signing by an
# agent counts as one by the customer: paper-forms-toolkit.md Part 2,
# sales-process #3).
PROBABILITIES = (
    (0, "丢标、放弃或其他原因终止项目"),
    (20, "客户有合作的意愿"),
    (40, "项目准备投标，或客户已明确需求及采购计划"),
    (60, "项目已立项，客户决策人认可我们的解决方案"),
    (80, "收到中标通知书，或得到客户决策人采购承诺"),
    (100, "代理或客户与我们签定合约，并且已做销售收入确认"),
)
PROBABILITY_VALUES = tuple(p for p, _ in PROBABILITIES)

CUSTOMER_CLASSES = (
    ("A", "需求紧急（1个月内成交）且成交可能性 ≥70%"),
    ("B", "2–3 个月内成交，可能性 40%–70%"),
    ("C", "3 个月以上，或可能性 <40%"),
    ("D", "暂无明确需求"),
)
CLASS_CODES = tuple(c for c, _ in CUSTOMER_CLASSES)

LEAD_SOURCES = ("互联网", "公司领导资源", "展会及研讨会", "广告", "朋友介绍",
                "客户介绍", "陌生拜访", "主动来电", "DM直投")

ROLES = (
    ("rep", "业务员/大客户经理"),
    ("manager", "业务经理/销售主管"),
    ("director", "销售总监"),
    ("gm", "总经理"),
    ("hr", "人力资源负责人"),
    ("implementation", "实施团队"),
    ("clerk", "工程文员"),
    ("auditor", "审计"),
    ("admin", "系统管理员"),
)
ROLE_LABELS = dict(ROLES)
ROLE_CODES = tuple(r for r, _ in ROLES)
# Roles that see every project; clerk and auditor only read.
SEE_ALL_ROLES = ("director", "gm", "clerk", "auditor")
READ_ONLY_ROLES = ("clerk", "auditor")
# Roles that may hold a sign-off slot (sign, be picked, deputise). Admin,
# clerk and auditor never sign: they keep, read and check the records.
SIGNING_ROLES = ("rep", "manager", "director", "gm", "hr", "implementation")
# The sales line: whoever is in it may stand in (代签) for anyone else in it,
# as a senior rep or another team's manager stands in for a 业务经理.
SALES_LINE = ("rep", "manager", "director", "gm")

# A record's life: 草稿 → 审批中 → 已批准, or 已退回 for revision.
RECORD_STATUSES = (("draft", "草稿"), ("submitted", "审批中"), ("returned", "已退回"), ("approved", "已批准"))
RECORD_STATUS_LABELS = dict(RECORD_STATUSES)

# 签约概率 a project takes when it is moved back into a stage (reopened from
# 签约成交): the PROBABILITIES level whose description matches the stage's
# customer step. The sheets give no table; this reading is the system's default.
STAGE_PROBABILITY = {"lead": 20, "contact": 20, "design": 40, "showcase": 40, "confirm": 60,
                     "evaluate": 60, "negotiate": 80, "won": 100, "lost": 0, "postponed": 20}

# Customer class limits (sales-process.md "Customer class"): A closes within
# 1 month at ≥70 %, B within 3 months at 40–70 %, C later or below 40 %,
# D has no clear need yet (so at most 20 %, 客户有合作的意愿).
CLASS_A_DAYS, CLASS_B_DAYS = 31, 92


def implied_class(probability: int | None, expected_sign_date, today) -> str:
    """The class (A/B/C) that 签约概率 (%) and 预计签约日期 imply on `today`
    (department date) by the definitions of sales-process.md; C when either
    is missing."""
    if probability is None or expected_sign_date is None:
        return "C"
    days = (expected_sign_date - today).days
    if probability >= 70 and days <= CLASS_A_DAYS:
        return "A"
    if 40 <= probability <= 70 and days <= CLASS_B_DAYS:
        return "B"
    if probability >= 70 and days <= CLASS_B_DAYS:
        return "B"  # likely, but not within the month
    return "C"


def class_mismatch(customer_class: str | None, probability: int | None, expected_sign_date, today) -> str | None:
    """Why `customer_class` contradicts 签约概率 (%) and 预计签约日期 on `today`
    (sales-process.md class definitions), as a sentence for the project page;
    None when they agree. D only requires that the need is not yet clear
    (≤20 %)."""
    if not customer_class:
        return None
    date_text = f"预计签约日期 {expected_sign_date}" if expected_sign_date else "未填写预计签约日期"
    facts = f"签约概率 {probability if probability is not None else '—'}%，{date_text}"
    if customer_class == "D":
        if probability is not None and probability > 20:
            return f"D 类表示暂无明确需求，但{facts}——请核对分类或概率。"
        return None
    implied = implied_class(probability, expected_sign_date, today)
    if implied == customer_class:
        return None
    meaning = dict(CUSTOMER_CLASSES)[customer_class]
    return f"{customer_class} 类的定义是「{meaning}」，但{facts}，按定义应为 {implied} 类。"


# ── the department's report vocabularies (paper-forms-toolkit.md Part 3) ──
# The sources give no mapping from the eight stages to the other templates'
# stage words (3.14); these readings are the system's, kept here in one place.

@dataclass(frozen=True)
class Category:
    code: str
    label: str  # as printed on 销售漏斗表 (3.2)
    stages: tuple[str, ...]  # open stages it holds; () for the block of new signings


# 销售漏斗表 (3.2): 意向 = 有明显的购买需求 (stages 1–2), 方案 = 已经明确购买
# 内容、资金预算，需要出具项目方案 (3–5), 谈判 = 已明确选择，只是价格等其他原因
# 的谈判 (6–7), then the contracts signed in the period.
FUNNEL_CATEGORIES = (
    Category("intent", "意向客户（有明显的购买需求）", ("lead", "contact")),
    Category("solution", "方案客户（已经明确购买内容、资金预算，需要出具项目方案）", ("design", "showcase", "confirm")),
    Category("negotiation", "谈判客户（已明确选择，只是价格等其他原因的谈判）", ("evaluate", "negotiate")),
    Category("signed", "本期新签订合同客户（已成交）", ()),
)
CATEGORY_OF_STAGE = {stage: c.code for c in FUNNEL_CATEGORIES for stage in c.stages}

# 销售漏斗报表 (3.4) 阶段填写编号 1–7 as printed, and the number each stage
# takes: 定位目标客户群 (1) is before any project exists, so no project has it.
REPORT_STAGE_NUMBERS = ((1, "定位目标客户群"), (2, "发掘客户潜在商机"), (3, "确认客户意向"), (4, "客户立项"),
                        (5, "客户认可"), (6, "商务谈判"), (7, "成交"))
REPORT_STAGE_OF = {"lead": 2, "contact": 3, "design": 4, "showcase": 4, "confirm": 5, "evaluate": 5,
                   "negotiate": 6, "won": 7}


@dataclass(frozen=True)
class Node:
    code: str
    label: str
    phase: str


# 销售项目跟踪表 (3.7): the 13 nodes in their three phases, in printed order
# (安装调试调款 on the paper is read as 安装调试款).
TRACKING_PHASES = ("销售前期", "销售中期", "销售后期")
TRACKING_NODES = (
    Node("visit", "业务拜访", "销售前期"), Node("tech_exchange", "技术交流", "销售前期"),
    Node("presentation", "方案汇报", "销售前期"), Node("quotation", "报价", "销售前期"),
    Node("tender_start", "招标启动", "销售中期"), Node("bid_preparation", "投标准备", "销售中期"),
    Node("bid_won", "中标", "销售中期"),
    Node("contract_talks", "合同谈判", "销售后期"), Node("contract_signed", "合同签订", "销售后期"),
    Node("down_payment", "首付款", "销售后期"), Node("delivery_payment", "货到款", "销售后期"),
    Node("installation_payment", "安装调试款", "销售后期"), Node("final_payment", "尾款", "销售后期"),
)
NODE_BY_CODE = {n.code: n for n in TRACKING_NODES}
# The node a project reaches when it enters a stage (its date recorded then,
# unless it was recorded earlier): 初步接触 means a visit, 方案设计 a technical
# exchange, 方案确认 the presentation of the formal proposal, 项目评估 the
# quotation, 商务谈判 the contract talks, 签约成交 the signed contract. The
# bidding and payment nodes are recorded by hand on the project page.
STAGE_NODES = {"contact": "visit", "design": "tech_exchange", "confirm": "presentation", "evaluate": "quotation",
               "negotiate": "contract_talks", "won": "contract_signed"}
