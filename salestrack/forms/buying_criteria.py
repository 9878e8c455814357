"""关键采购标准清单 (toolkit sheet 25): what the customer's buyers weigh, and
how much. The paper preprints 合计 100%: the weights must add up to 100 %
before the sheet can be submitted, and the form shows the running total.
No sign-off is printed: the area manager reviews it, as every rep's project
sheet (paper-forms-toolkit.md, 25)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="buying_criteria",
    title="关键采购标准清单",
    title_en="Key buying criteria",
    prefix="CGBZ",
    group="合作谈判型",
    stages=("negotiate",),
    version=1,
    author_label="填写人",
    order=22,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Table("criteria", "关键采购标准", "Key buying criteria", required=True, start_rows=5, columns=(
                Field("criterion", "关注点", "Criterion", "text", required=True),
                Field("weight", "权重", "Weight", "percent", required=True),
            ), weights="weight", total_label="合计"),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
