"""客户综合评估 (toolkit sheet 9): the 评价人 weighs 24 preprinted indicators
in 7 groups and scores the customer (客户1) and, for comparison, a second
customer (客户2). 综合评价 is each customer's Σ 权重 × 分 and 级别 its grade.

The paper prints 100% under 权重 on the 综合评价 row: the weights must add
up to 100 %. It prints no score scale (scores here are 0-100) and no 级别
thresholds: they are the setting GRADE_THRESHOLDS["customer_grade"], and
级别 stays blank until it is set (paper-forms-toolkit.md, 9). 签字 names no
role: the rep's manager signs."""
from salestrack.formkit.spec import Field, FormSpec, Grade, Row, Section, Slot, Table

INDICATORS = (
    ("行业因素", (("maturity", "行业成熟度"), ("profit", "行业利润"), ("competition", "竞争状况"))),
    ("生命周期", (("history", "历史"), ("stage", "生命周期阶段"))),
    ("规模状况", (("regions", "区域跨度"), ("branches", "分支机构"), ("standing", "行业地位"))),
    ("组织因素", (("structure", "组织结构"), ("departments", "部门机构"), ("power", "权力结构"),
                  ("deciders", "决策人员"))),
    ("发展目标", (("long_term", "长期目标"), ("short_term", "短期目标"), ("business", "业务目标"))),
    ("经营状况", (("profitability", "盈利状况"), ("technology", "技术状况"), ("customers", "客户"),
                  ("suppliers", "供应商"), ("scope", "业务范围"), ("products", "产品服务"),
                  ("key_issues", "关键问题"))),
    ("客户关系", (("business_contacts", "业务交往"), ("member_contacts", "成员交往"))),
)

FORM = FormSpec(
    key="customer_assessment",
    title="客户综合评估",
    title_en="Customer assessment",
    prefix="KHPG",
    group="电话邀约型",
    stages=("lead",),
    version=1,
    author_label="评价人",
    order=4,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("second_customer", "客户2", "Customer 2", "text",
                  help="用于对比的第二个客户（可不填）；客户1 即本表的客户"),
        )),
        Section("", "", (
            Table("scores", "综合评估", "Assessment", columns=(
                Field("indicator", "评价指标", "Indicator", "text"),
                Field("weight", "权重", "Weight", "percent"),
                Field("score_1", "客户1", "Customer 1", "score", party="customer_name"),
                Field("score_2", "客户2", "Customer 2", "score", party="second_customer"),
            ), rows=tuple(Row(key, label, group) for group, items in INDICATORS for key, label in items),
                label_column="indicator", add_rows=False, weights="weight", scores=("score_1", "score_2"),
                total_label="综合评价", grade=Grade("级别", "Grade", "customer_grade")),
        )),
    ),
    slots=(
        Slot("sign", "签字", "Signature", "team_manager"),
    ),
)
