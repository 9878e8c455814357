"""客户内部组织结构图 (toolkit sheet 12): the people of the customer's
organisation and who reports to whom, drawn as a tree. On paper it is a
drawing area; here each row is one box — 姓名 picked from the customer's
people (职务 filled from the person), its 科室, whom he reports to (上级),
and sheet 13's 职务级别, 角色, 态度 and 联系 (paper-forms-toolkit.md 12,
13). The tree is laid out in tiers 决策层 > 管理层 > 操作层, a box's colour
shows 态度 and the line to his superior shows 联系; the same drawing is on
the page and the PDF. The paper prints no sign-off: the area manager reviews
it as he reviews the other follow-up sheets (业务经理/组长审阅)."""
from salestrack.formkit.spec import Drawing, Field, FormSpec, Section, Slot, Table

LEVELS = ("操作层", "管理层", "决策层")  # as printed on sheet 13
ATTITUDES = ("支持者", "中立者", "反对者")
CLOSENESS = ("密切", "频繁", "疏远", "未联系")
ROLES = ("发起者", "设计者", "决策者", "使用者", "评估者")

FORM = FormSpec(
    key="org_chart",
    title="客户内部组织结构图",
    title_en="Customer organisation chart",
    prefix="ZZ",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="填写人",
    order=9,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
        )),
        Section("", "", (
            Table("people", "组织结构", "Organisation", required=True, start_rows=4, columns=(
                Field("person", "姓名", "Name", "contact", required=True, fills=(("title", "title"),),
                      help="客户本人的姓名"),
                Field("title", "职务", "Position", "text", help="客户在所在机构的职务"),
                Field("dept", "科室", "Department", "text", help="客户所在科室的名称"),
                Field("reports_to", "上级", "Reports to", "contact", help="他向谁汇报：本图中另一人的姓名"),
                Field("level", "级别", "Level", "choice", choices=LEVELS,
                      help="与他在组织结构图中的位置，反映了他的级别"),
                Field("role", "角色", "Role in buying", "choice", choices=ROLES, help="客户所在采购中的角色"),
                Field("attitude", "态度", "Attitude", "choice", choices=ATTITUDES, help="客户对我们的态度"),
                Field("closeness", "联系", "Contact", "choice", choices=CLOSENESS,
                      help="与我们之间的联系的密切程度"),
            ), drawing=Drawing(
                kind="tree", title="组织结构图", node="person", parent="reports_to", lines=("title", "dept"),
                tier="level", tiers=("决策层", "管理层", "操作层"), colour="attitude",
                palette=("#cfe8cf", "#fff1c2", "#f6c9c9"), line="closeness")),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
