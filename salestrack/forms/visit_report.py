"""客户拜访总结报告: filed after every customer visit, at any stage."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot, Table

FORM = FormSpec(
    key="visit_report",
    title="客户拜访总结报告",
    title_en="Customer visit summary",
    prefix="BF",
    group="上门拜访型",
    stages=("contact",),
    version=1,
    author_label="大客户经理",
    order=5,
    followup=True,
    followup_date="date",
    note="注意：不一定在第二阶段，销售过程中任何阶段存在拜访都得填写该表。",
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
        )),
        Section("", "", (
            Field("stage", "拜访处在哪个阶段", "Stage of the visit", "choice", required=True, choices=(
                "客户规划与电话邀约", "客户拜访", "提交初步方案", "方案演示与业绩展示",
                "需求性分析及方案确定", "项目评估", "合作谈判", "成交"),
                  prefill="project.stage",  # the funnel's eight stages in the paper's words
                  prefill_map=(("lead", "客户规划与电话邀约"), ("contact", "客户拜访"), ("design", "提交初步方案"),
                               ("showcase", "方案演示与业绩展示"), ("confirm", "需求性分析及方案确定"),
                               ("evaluate", "项目评估"), ("negotiate", "合作谈判"), ("won", "成交"))),
            Field("visitee", "拜访对象", "Person visited", "contact", required=True),
            Field("visited_at", "拜访时间", "Visit time", "datetime", required=True),
            Field("place", "拜访地点", "Place", "text"),
            Field("agenda", "拜访主要内容", "Main topics", "textarea", required=True, wide=True),
            Field("goal", "要达到什么样的结果", "Intended outcome", "textarea", wide=True),
            Field("companions", "拜访陪同人", "Accompanied by", "text"),
        )),
        Section("", "", (
            Table("findings", "拜访实际情况", "What happened", start_rows=3, columns=(
                Field("element", "关键评估元素情况", "Key evaluation factor", "text"),
                Field("our_wins", "我们的成功", "Where we succeeded", "text"),
                Field("our_losses", "我们的失败", "Where we failed", "text"),
                Field("customer_advice", "客户建议", "Customer's advice", "text"),
            )),
            # No caption on paper: 拜访中对客户的承诺 heads the first column (Part 2 #4); ≈4 rows.
            Table("promises", "拜访中对客户的承诺", "Promises made during the visit", start_rows=4,
                  print_caption=False, columns=(
                Field("promise", "拜访中对客户的承诺", "Promise made during the visit", "text", required=True),
                Field("due", "反馈时间", "Reply by", "date", calendar="承诺反馈", calendar_text="promise"),
                Field("owner", "责任人", "Owner", "text"),
                Field("action_plan", "任务行动计划", "Action plan", "text"),
            )),
        )),
        Section("", "", (
            Field("next_visit_at", "约定下次拜访时间", "Next visit agreed for", "datetime",
                  calendar="约定拜访", calendar_text="next_visit_purpose"),
            Field("next_visit_place", "约定下次拜访的地点", "Next visit place", "text"),
            Field("next_visit_purpose", "下次拜访目的", "Purpose of next visit", "text"),
            Field("next_visit_plan", "下次拜访主要计划", "Plan for next visit", "text"),
            Field("next_actions", "对此客户下一步拟采取行动计划", "Next actions for this customer",
                  "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("advice", "领导建议", "Manager's advice", "team_manager",
             comment_required=True, comment_label="领导建议"),
    ),
)
