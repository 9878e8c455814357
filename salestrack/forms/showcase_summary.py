"""业绩展示总结 (toolkit sheet 19): the project manager's summary of a
reference showcase — when and where, the customer's contact, who gave the
demonstration and how it went, each side's advice, the help we need, the
competitors seen, and what we improve.

方案演示 and 所属部门 are read as who gave the demonstration and his
department. The paper prints 竞争对手 / 优势 / 劣势 as row labels with two
blank cells each — room for two competitors, one per column; the form turns
it into a table of rows, two to begin with (paper-forms-toolkit.md, 19). The
paper prints 交流时间 as "年 月 日星期"; the form takes the date (the weekday
follows from it). 领导签字 with its date is the author's manager's signature,
as the paper names no role."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="showcase_summary",
    title="业绩展示总结",
    title_en="Reference showcase summary",
    prefix="ZSZ",
    group="业绩展示型",
    stages=("showcase",),
    version=1,
    author_label="项目经理",
    order=16,
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
        )),
        Section("", "", (
            Field("held_on", "交流时间", "Date of the meeting", "date", required=True),
            Field("place", "交流地点", "Place", "text"),
            Field("contact", "联系人姓名", "Contact", "contact"),
            Field("contact_dept_title", "部门与职位", "Department and position", "text"),
            Field("contact_phone", "电话号码", "Phone", "text"),
            Field("presenter", "方案演示", "Demonstrated by", "text"),
            Field("presenter_dept", "所属部门", "Presenter's department", "text"),
            Field("demo_notes", "演示情况", "How the demonstration went", "textarea", required=True, wide=True),
            Table("advice", "双方建议", "Advice from both sides", start_rows=3, columns=(
                Field("aspect", "方面", "Aspect", "text", required=True),
                Field("our_advice", "我方建议", "Our advice", "textarea"),
                Field("customer_advice", "客户建议", "Customer's advice", "textarea"),
            )),
            Field("resources_needed", "重要的资料、资源的协助", "Material and resources needed", "textarea",
                  wide=True),
            Table("competitors", "竞争对手的详细情况", "Competitors in detail", start_rows=2, columns=(
                Field("name", "竞争对手", "Competitor", "text", required=True),
                Field("strengths", "优势", "Strengths", "textarea"),
                Field("weaknesses", "劣势", "Weaknesses", "textarea"),
            )),
            Field("improvements", "改进措施", "Improvements", "textarea", wide=True),
            Field("suggestions", "建议", "Suggestions", "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("leader", "领导签字", "Leader's signature", "team_manager"),
    ),
)
