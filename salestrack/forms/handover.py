"""售前与工程实施交接单: sales hands a won project to the implementation team;
the project manager's signature means "received and accepted"."""
from salestrack.formkit.spec import Field, FormSpec, Section, Slot

FORM = FormSpec(
    key="handover",
    title="售前与工程实施交接单",
    title_en="Presale-to-implementation handover",
    prefix="JJ",
    group="签约成交型",
    stages=("won",),
    version=1,
    author_label="填写人",
    order=27,
    # Approved, it lands in the implementation team's 实施工作台, whose card shows these.
    worklist=("contract_name", "contract_no", "impl_start", "impl_end", "implementation_budget", "impl_scope"),
    sections=(
        Section("", "", (
            Field("date", "日期", "Date", "date", required=True, default="today"),
            Field("contract_name", "合同名称", "Contract name", "text", source="contract.contract_name"),
            Field("contract_no", "合同编号", "Contract no.", "text", source="contract.contract_no"),
            Field("customer_name", "客户名称", "Customer", "text", source="customer.name"),
            Field("customer_no", "客户编号", "Customer no.", "text", source="customer.customer_no"),
            Field("project_name", "项目名称", "Project", "text", source="project.name"),
            Field("handover_date", "交接日期", "Handover date", "date", required=True),
        )),
        Section("", "", (
            Field("products", "购买产品范围", "Products purchased", "textarea", required=True, wide=True),
            Field("functions", "产品功能范围", "Functions included", "textarea", wide=True),
            Field("list_price", "产品标准报价", "Standard list price (10k CNY)", "money", required=True),
            Field("implementation_budget", "实施划拨费用", "Implementation budget (10k CNY)", "money"),
            # The paper prints one label over both dates (paper-forms.md §7).
            Field("impl_start", "实施开始日期", "Implementation start", "date", print_label="实施开始日期及结束日期"),
            Field("impl_end", "实施结束日期", "Implementation end", "date", print_label="实施开始日期及结束日期"),
            Field("training", "培训情况", "Training", "textarea", wide=True),
            Field("impl_scope", "工程实施范围", "Implementation scope", "textarea", required=True, wide=True),
            Field("impl_goals", "实施内容及目标", "Implementation content and goals", "textarea", wide=True),
            Field("customer_commitments", "主要客户承诺", "Main commitments to the customer", "textarea",
                  wide=True),
            Field("remarks", "备注", "Remarks", "textarea", wide=True),
        )),
    ),
    slots=(
        Slot("sales_manager", "销售经理", "Sales manager", "team_manager"),
        Slot("engineer", "技术工程师", "Technical engineer", "chosen:implementation"),
        Slot("project_manager", "项目经理(生产经理)", "Project (production) manager", "chosen:implementation"),
    ),
)
