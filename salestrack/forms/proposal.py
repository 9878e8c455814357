"""方案说明书 (toolkit sheet 21): the proposal put to the customer —
background, purpose, scope and deliverables, the work plan, fees, payment,
after-sales service and the customer's special requirements.

The paper heads it 方案说明书编号 and 填写日期 and prints no 填写人; the
system numbers it (编号) and records its author as on every sheet
(paper-forms-toolkit.md, 21 and Part 2 #2). 客户的一些特殊要求 is the
largest block on paper. No signature is printed; as on 电话记录表, the rep's
业务经理/组长 reviews it (sales-process.md) before it counts as filed."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot

FORM = FormSpec(
    key="proposal",
    title="方案说明书",
    title_en="Proposal description",
    prefix="FA",
    group="方案设计型",
    stages=("confirm",),
    version=1,
    author_label="填写人",
    order=18,
    sections=(
        Section("", "", (
            Field("date", "填写日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Field("background", "背景介绍", "Background", "textarea", wide=True),
            Field("purpose", "项目目的", "Purpose of the project", "textarea", required=True, wide=True),
            Field("scope_deliverables", "项目范围及工作成果", "Scope and deliverables", "textarea",
                  required=True, wide=True),
            Field("work_plan", "具体工作安排", "Work plan", "textarea", wide=True),
            Field("fees", "费用说明", "Fees", "textarea", wide=True),
            Field("payment_terms", "付款方式", "Payment terms", "textarea", wide=True),
            Field("after_sales", "售后服务说明", "After-sales service", "textarea", wide=True),
            Field("special_requirements", "客户的一些特殊要求", "Customer's special requirements", "textarea",
                  wide=True),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
