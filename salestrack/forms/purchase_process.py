"""客户内部采购流程 (toolkit sheet 11): how the customer buys — each step of
its purchasing, who at the customer owns it and what he weighs at that step.

The paper prints no header and no customer or project field: the sheet is
filed against the project, and the system header (编号, 填写人, 日期 of
filing) stands in. Its rows are blank on paper — 004's text describes a
generic eight-step process (发现问题,提出问题 … 双方商定,签约成交), but the
sheet does not preprint it — so the form is a table of rows, four to begin
with (paper-forms-toolkit.md, 11). 采购过程 is stored under the key
`activity`, as `process` is a name the form library reserves. 职位 is typed beside the picked person,
as on 初期调研报告. No signature is printed; as on 电话记录表, the rep's
业务经理/组长 reviews it (sales-process.md: the area manager reviews the
reps' sheets), which seals and archives it like every sheet."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="purchase_process",
    title="客户内部采购流程",
    title_en="Customer's buying process",
    prefix="CG",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="填写人",
    order=8,
    sections=(
        Section("", "", (
            Table("steps", "采购流程", "Buying steps", required=True, start_rows=4, columns=(
                Field("step", "步骤", "Step", "int", print_as="narrow"),
                Field("activity", "采购过程", "Buying activity", "text", required=True),
                Field("owner", "采购负责人", "Customer's owner", "contact"),
                Field("title", "职位", "Position", "text"),
                Field("criteria", "考虑因素", "What they weigh", "textarea"),
            )),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
