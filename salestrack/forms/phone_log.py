"""电话记录表: the rep's log of calls, one row per call."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="phone_log",
    title="电话记录表",
    title_en="Phone log",
    prefix="DH",
    group="电话邀约型",
    stages=("lead",),
    version=1,
    author_label="填写人",
    order=1,
    followup=True,
    followup_date="date",
    landscape=True,  # the paper is a twelve-column table
    sections=(
        Section("", "", (
            Field("date", "联系日期", "Contact date", "date", required=True, default="today"),
            Table("calls", "电话记录", "Calls", required=True, columns=(
                Field("seq", "序号", "No.", "int", print_as="narrow"),
                Field("time", "时间", "Time", "time"),
                Field("customer_name", "客户名称", "Customer", "text", prefill="customer.name"),
                Field("customer_no", "编号", "Customer no.", "text", prefill="customer.customer_no"),
                Field("reached", "找到谁", "Person reached", "contact", required=True,
                      fills=(("contact", "phone"),)),
                Field("contact", "联系方式", "Contact details", "text", print_as="unbroken"),
                Field("content", "电话沟通内容", "What was discussed", "textarea", required=True),
                Field("tracking", "信息跟踪内容", "Follow-up information", "textarea"),
                Field("next_contact_at", "计划下次联络时间", "Next contact planned", "datetime",
                      calendar="计划联络", calendar_text="promise"),
                Field("promise", "对客户的承诺", "Promise to the customer", "text"),
                Field("todo", "需完成工作", "Work to complete", "text"),
                Field("todo_done_at", "完成时间", "Complete by", "date"),
            )),
        )),
    ),
    slots=(
        Slot("review", "业务经理/组长审阅", "Area manager review", "team_manager"),
    ),
)
