"""资源支持申请表: a rep asks for people or services to support a project."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot

FORM = FormSpec(
    key="resource_request",
    title="资源支持申请表",
    title_en="Resource support request",
    prefix="ZY",
    group="上门拜访型",  # Part 2 #3: the paper's group, which paper-forms.md did not state
    stages=("contact",),
    version=2,  # 2: 客户分类's fifth box is a blank write-in, not 其他 (a stored 其他 prints as written)
    author_label="填表人",
    order=6,
    sign_title="审批",  # the three approvals are printed under the block label 审批
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("customer_class", "客户分类", "Customer class", "choice", required=True,
                  choices=("A类客户", "B类客户", "C类客户", "D类客户"), write_in=True,
                  prefill="project.customer_class",
                  prefill_map=(("A", "A类客户"), ("B", "B类客户"), ("C", "C类客户"), ("D", "D类客户"))),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
            Field("customer_name", "客户", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
        )),
        Section("", "", (
            Field("support_needed", "需何支援", "Support needed", "textarea", required=True, wide=True),
            Field("reason", "支援原因", "Reason", "textarea", required=True, wide=True),
            Field("support_period", "支持时间", "When", "text", required=True),
            Field("support_form", "支持形式", "Form of support", "checks",
                  choices=("出差", "提供专业服务", "其他")),
            Field("requirements", "有何要求", "Requirements", "textarea", wide=True),
            Field("expected_outcome", "预期目标", "Expected outcome", "textarea", wide=True),
            Field("attachments", "资料附件", "Attachments", "files", wide=True),
        )),
    ),
    slots=(
        Slot("department", "所属部门领导审核", "Department head review", "team_manager"),
        Slot("gm", "总经理审核", "General manager review", "role:gm"),
        Slot("hr", "人力资源管理部门领导", "HR head", "role:hr"),
    ),
)
