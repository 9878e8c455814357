"""初期调研报告 (toolkit sheet 16): the project manager's report of the
first survey at the customer, with the preliminary proposal's strengths and
weaknesses.

The paper prints 调研部门 / 调研对象 / 职务 / 电话 as row labels with four
blank cells each — room for four respondents, one per column; the form turns
it into a table of rows, four to begin with (paper-forms-toolkit.md, 16).
领导建议 with its 签字 and 日期 is the leader's signature (the author's
manager, as the paper names no role); 项目经理 at the foot is the project's
account manager's."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="survey_report",
    title="初期调研报告",
    title_en="Initial survey report",
    prefix="DY",
    group="初步方案型",
    stages=("design",),
    version=1,
    author_label="项目经理",
    order=13,
    author_at_foot=True,  # 项目经理 … 日期 is printed again at the foot, after 备注
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
        )),
        Section("基本信息", "Basic information", (
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("place", "地点", "Place", "text"),
            Field("survey_date", "调研日期", "Survey date", "date", required=True),
            Table("respondents", "调研部门及对象", "Respondents", required=True, start_rows=4, columns=(
                Field("dept", "调研部门", "Department", "text"),
                Field("person", "调研对象", "Person surveyed", "contact", required=True,
                      fills=(("title", "title"), ("phone", "phone"))),
                Field("title", "职务", "Position", "text"),
                Field("phone", "电话", "Phone", "text"),
            )),
            Field("contact", "联系人", "Contact", "contact", fills=(("contact_phone", "phone"),)),
            Field("contact_phone", "电话", "Phone", "text"),
            Field("contact_fax", "传真", "Fax", "text"),
            Field("contact_email", "EMAIL", "E-mail", "text"),
        )),
        Section("", "", (
            Field("scope", "调研范围", "Scope", "textarea", wide=True),
            Field("goals", "调研目标", "Goals", "textarea", wide=True),
            Field("agenda", "调研议程", "Agenda", "textarea", wide=True),
            Field("needs", "需求特点及描述", "Needs", "textarea", required=True, wide=True),
            Field("concerns", "客户关注点", "Customer's concerns", "textarea", wide=True),
            Field("customer_advice", "客户建议", "Customer's advice", "textarea", wide=True),
            Field("strengths", "初步方案优势", "Strengths of the preliminary proposal", "textarea", wide=True),
            Field("weaknesses", "初步方案劣势", "Weaknesses of the preliminary proposal", "textarea", wide=True),
            Field("improvements", "改进措施", "Improvements", "textarea", wide=True),
            Field("remarks", "备注", "Remarks", "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("project_manager", "项目经理", "Project manager", "project_owner"),
        Slot("leader", "领导建议", "Leader's advice", "team_manager",
             comment_required=True, comment_label="领导建议"),
    ),
)
