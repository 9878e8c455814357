"""商务条款偏离表: where our bid departs from the tender's commercial terms."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="bid_deviation",
    title="商务条款偏离表(格式)",  # the printed title (Part 2 #5)
    title_en="Commercial terms deviation",
    prefix="PL",
    group="合作谈判型",
    stages=("negotiate",),
    version=1,
    author_label="填写人",
    order=24,
    followup=True,
    followup_date="date",
    sections=(
        Section("", "", (
            Field("date", "制定日期", "Date drawn up", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Table("deviations", "商务条款偏离", "Deviations", required=True, columns=(
                Field("seq", "序号", "No.", "int"),
                Field("tender_clause_no", "招标文件条目号", "Tender clause no.", "text"),
                Field("tender_term", "招标文件的商务条款", "Tender's commercial term", "text",
                      required=True),
                Field("bid_term", "投标文件的商务条款", "Our bid's commercial term", "text",
                      required=True),
                Field("note", "说明", "Explanation", "text"),
            )),
        )),
    ),
    slots=(
        Slot("account_manager", "客户经理综合意见", "Account manager's opinion", "project_owner",
             comment_required=True, comment_label="客户经理综合意见"),
        Slot("sales_lead", "销售主管综合意见", "Sales lead's opinion", "team_manager",
             comment_required=True, comment_label="销售主管综合意见"),
    ),
)
