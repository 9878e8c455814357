"""客户内部与采购有关人的角色与态度 (toolkit sheet 13): the roster of the
customer's people who take part in the purchase, with each one's level,
department, buying role, attitude to us and how closely we are in touch.

The paper prints no grid but a three-column legend 项目 | 描述 | 选项; the
form is one roster per project whose columns are the legend's 项目, whose
lists are its 选项 and whose help texts are its 描述 (paper-forms-toolkit.md,
13). For 职务 and 科室 the legend asks for the title or department name but
offers levels and categories: the roster records the category; the person's
own 职位 is on his record. The lists are module constants so that the org
chart (sheet 12), which carries the same attributes per person, can take
them from here. No signature is printed; as on 电话记录表, the rep's
业务经理/组长 reviews it (sales-process.md)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

LEVELS = ("操作层", "管理层", "决策层")
DEPARTMENTS = ("财务", "采购", "使用", "技术")
BUYING_ROLES = ("发起者", "设计者", "决策者", "使用者", "评估者")
ATTITUDES = ("支持者", "中立者", "反对者")
CLOSENESS = ("密切", "频繁", "疏远", "未联系")

FORM = FormSpec(
    key="buying_roles",
    title="客户内部与采购有关人的角色与态度",
    title_en="Buying roles and attitudes",
    prefix="JS",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="填写人",
    order=10,
    sections=(
        Section("", "", (
            Table("people", "与采购有关人", "People in the purchase", required=True, start_rows=3, columns=(
                Field("person", "姓名", "Name", "contact", required=True, help="客户本人的姓名"),
                Field("level", "职务", "Level", "choice", choices=LEVELS,
                      help="客户在所在机构的职务，与他在客户组织结构图的位置，反映了他的级别"),
                Field("dept", "科室", "Department", "choice", choices=DEPARTMENTS, help="客户所在科室的名称"),
                Field("role", "角色", "Buying role", "choice", choices=BUYING_ROLES, help="客户所在采购中的角色"),
                Field("attitude", "态度", "Attitude", "choice", choices=ATTITUDES, help="客户对我们的态度"),
                Field("closeness", "联系", "Contact with us", "choice", choices=CLOSENESS,
                      help="与我们之间的联系的密切程度"),
            )),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
