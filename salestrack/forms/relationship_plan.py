"""强化客户关系计划表, first printing (toolkit sheet 15, 上门拜访型): after
the first visits, for each person who matters to the project, how he can
push it, how he stands with our competitors and what they are doing, and
what we do to strengthen the relationship, by when, and how we check it.

The toolkit prints this title twice with different columns; the second
printing, in 项目评估型, is relationship_plan_b (sheet 24). This one records
the person's department at the customer (所在客户的科室) and what the
competitors are doing (竞争同业间的活动情况), and dates each action with one
时间. The columns the two share keep the same keys (paper-forms-toolkit.md,
15 and 24). 与项目有关的角色 is read as the person, picked from the
customer's people. The paper prints the header 编号, 填写人, 日期 and no
signature; as on 电话记录表, the rep's 业务经理/组长 reviews it
(sales-process.md)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="relationship_plan",
    title="强化客户关系计划表",
    title_en="Relationship strengthening plan (visit)",
    prefix="QH",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="填写人",
    order=12,
    landscape=True,  # an eight-column table
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Table("plans", "强化计划", "Plans", required=True, start_rows=4, columns=(
                Field("role", "与项目有关的角色", "Person involved in the project", "contact", required=True),
                Field("influence", "推动的影响力", "Influence on the project", "text"),
                Field("competitor_relation", "和竞争同业间的关系", "Relation with competitors", "text"),
                Field("competitor_activity", "竞争同业间的活动情况", "Competitors' activity", "text"),
                Field("customer_dept", "所在客户的科室", "Department at the customer", "text"),
                Field("actions", "强化对策", "Actions to strengthen", "textarea", required=True),
                Field("when", "时间", "When", "date"),
                Field("check", "检查对策", "How the actions are checked", "textarea"),
            )),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
