"""建立客户关系评估分析图 (toolkit sheet 14): each decision-maker of the
project, his part in it, how we stand with him and how much he weighs,
drawn as a chart — one bar per 项目决策人, as long as 影响项目的比重 and
coloured by 目前的关系 (the words of sheet 8's 关系状态: 未接触, 点头之谊,
常往来, 很铁; other words leave the bar uncoloured). The paper prints the
table only; the chart is drawn from it, the same on the page and the PDF.
Σ比重 = 100% is not printed: the chart shows the total and says when it is
not 100%, without refusing the sheet (paper-forms-toolkit.md 14). Sign-off
as printed: 填写人签字 under 评估结果分析, then 领导建议 with its signature
(the rep's manager)."""
from salestrack.formkit.spec import Drawing, Field, FormSpec, Section, Slot, Table
from salestrack.people import RELATION_STATE

FORM = FormSpec(
    key="relationship_map",
    title="建立客户关系评估分析图",
    title_en="Relationship assessment chart",
    prefix="GX",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="填写人",
    order=11,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
            Field("project_no", "项目编号", "Project no.", "text", source="project.project_no"),
        )),
        Section("", "", (
            Table("decision_makers", "项目决策人", "Decision-makers", required=True, start_rows=4, columns=(
                Field("person", "项目决策人", "Decision-maker", "contact", required=True),
                Field("dept", "所属部门", "Department", "text"),
                Field("role_in_project", "对项目的作用", "Part in the project", "text"),
                Field("relation", "目前的关系", "Relationship now", "text",
                      help="如：" + "、".join(RELATION_STATE)),
                Field("weight", "影响项目的比重", "Weight in the project", "percent"),
            ), drawing=Drawing(
                kind="bars", title="客户关系评估分析图", node="person", lines=("role_in_project",),
                length="weight", colour="relation", scale=RELATION_STATE,
                palette=("#e3e3e3", "#cfe0f3", "#8fb3d9", "#3f78b5"))),
            Field("analysis", "评估结果分析", "Analysis", "textarea", required=True, wide=True),
        )),
    ),
    slots=(
        Slot("author", "填写人签字", "Signed by the author", "project_owner"),
        Slot("leader", "领导建议", "Leader's advice", "team_manager", comment_required=True, comment_label="领导建议"),
    ),
)
