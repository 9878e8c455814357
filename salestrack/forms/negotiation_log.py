"""谈判记录表 (toolkit sheet 27): one row per negotiation round — who led
it, who took part on each side, when, what was achieved, which clauses are
to change and who changes them.

其他 and 信息 are printed on two lines and read as one heading, 其他信息
(nine columns fit the paper's blank cells; ten do not). 客户谈判人 may be
several people: the cell picks one of the customer's people, or takes the
names typed together while they are not recorded (paper-forms-toolkit.md,
27). The paper prints the header 编号, 填写人, 日期 and no signature; as on
电话记录表, the rep's 业务经理/组长 reviews it (sales-process.md)."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="negotiation_log",
    title="谈判记录表",
    title_en="Negotiation log",
    prefix="TPL",
    group="合作谈判型",
    stages=("negotiate",),
    version=1,
    author_label="填写人",
    order=25,
    landscape=True,  # a nine-column table
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Table("rounds", "谈判记录", "Negotiation rounds", required=True, start_rows=4, columns=(
                Field("round", "谈判次数", "Round", "int", print_as="narrow"),
                Field("lead", "负责人", "Led by", "user"),
                Field("our_people", "参与人员", "Our participants", "text"),
                Field("customer_people", "客户谈判人", "Customer's negotiators", "contact"),
                Field("date", "日期", "Date", "date", required=True),
                Field("outcome", "主要成果", "Main outcome", "textarea", required=True),
                Field("clause_changes", "条款修改意见", "Clause changes", "textarea"),
                Field("change_owner", "修改负责人", "Changes owned by", "user"),
                Field("other", "其他信息", "Other information", "textarea"),
            )),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
