"""强化客户关系计划表, second printing (toolkit sheet 24, 项目评估型): while
the project is evaluated, for each person of the customer who matters, how
his relationship with our competitors was and how it is developing, who on
our side owns him, and what we do to strengthen the relationship, on what
schedule, and how we check it.

The same title as relationship_plan (sheet 15, 上门拜访型), with different
columns: instead of the person's department and the competitors' activity,
this printing splits his relationship with the competitors into 之前的关系
and 发展的关系, names our 本公司对应的负责人员 (a user of the system), and
has a free 时间表 instead of a single 时间. The columns the two share keep
the same keys (paper-forms-toolkit.md, 15 and 24). 客户角色 is read as the
person, picked from the customer's people. The paper prints the header 编号,
填写人, 日期 and no signature; as on 电话记录表, the rep's 业务经理/组长
reviews it (sales-process.md)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="relationship_plan_b",
    title="强化客户关系计划表",
    title_en="Relationship strengthening plan (evaluation)",
    prefix="QHB",
    group="项目评估型",
    stages=("evaluate",),
    version=1,
    author_label="填写人",
    order=21,
    landscape=True,  # an eight-column table
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Table("plans", "强化计划", "Plans", required=True, start_rows=5, columns=(
                Field("role", "客户角色", "Customer's person", "contact", required=True),
                Field("influence", "推动的影响力", "Influence on the project", "text"),
                Field("competitor_relation_before", "和竞争同业间之前的关系", "Earlier relation with competitors",
                      "text"),
                Field("competitor_relation_trend", "和竞争同业间发展的关系", "Developing relation with competitors",
                      "text"),
                Field("our_owner", "本公司对应的负责人员", "Our person in charge", "user"),
                Field("actions", "强化对策", "Actions to strengthen", "textarea", required=True),
                Field("schedule", "时间表", "Schedule", "text"),
                Field("check", "检查对策", "How the actions are checked", "textarea"),
            )),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
