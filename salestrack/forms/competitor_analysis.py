"""竞争对手分析表 (toolkit sheet 22): our company and competitors A and B
scored 1-5 on weighted criteria; 标准(1-5) says per criterion what a score
means. The paper preprints 产品质量, 效果 and 价格 and may have had blank
rows after them, so rows can be added. It prints no total: each company's
Σ 权重 × 分 is computed, and the weights must add up to 100 % as on the
department's other weighted sheets (paper-forms-toolkit.md, 22). A and B
are named on the form. No sign-off is printed: the area manager reviews it,
as every rep's project sheet."""
from salestrack.formkit.spec import Field, FormSpec, Row, Section, Slot, Table

FORM = FormSpec(
    key="competitor_analysis",
    title="竞争对手分析表",
    title_en="Competitor analysis",
    prefix="JZDS",
    group="项目评估型",
    stages=("evaluate",),
    version=1,
    author_label="填写人",
    order=19,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
            Field("competitor_a", "A竞争对手", "Competitor A", "text", help="竞争对手的名称，评分表的列以此命名"),
            Field("competitor_b", "B竞争对手", "Competitor B", "text", help="竞争对手的名称，评分表的列以此命名"),
        )),
        Section("", "", (
            Table("criteria", "竞争对手评分", "Scores", columns=(
                Field("criterion", "评估指标", "Criterion", "text"),
                Field("weight", "权重", "Weight", "percent"),
                Field("score_us", "我们公司", "Our company", "score", scale=(1, 5)),
                Field("score_a", "A竞争对手", "Competitor A", "score", scale=(1, 5), party="competitor_a"),
                Field("score_b", "B竞争对手", "Competitor B", "score", scale=(1, 5), party="competitor_b"),
                Field("standard", "标准(1-5)", "Standard (1-5)", "text", print_as="wide"),
            ), rows=(Row("quality", "产品质量"), Row("effect", "效果"), Row("price", "价格")),
                label_column="criterion", weights="weight", scores=("score_us", "score_a", "score_b"),
                total_label="加权得分"),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
