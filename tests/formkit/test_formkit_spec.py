"""The seven definitions against the paper, and the checks that keep a bad
definition out of the registry."""
from dataclasses import replace

import pytest

from salestrack.formkit import registry
from salestrack.process import STAGES
from salestrack.formkit.kinds import KINDS
from salestrack.formkit.spec import (Field, FormSpec, Section, Slot, Table, check_spec,
                                     parse_signer)

# (paper label, key, kind) in paper order; a table contributes its columns.
PAPER = {
    "marketing_activity": [
        ("企业名称", "customer", "text"), ("企业标识/编号", "customer_no", "text"),
        ("使用业务类型", "business_types", "text"), ("开始使用时间", "since", "date"),
        ("业务总量", "volume", "text"), ("费用构成", "cost_structure", "textarea"),
        ("使用时长", "duration", "text"), ("购买频率", "purchase_frequency", "text"),
        ("第一需求", "primary_need", "text"), ("优惠政策", "discounts", "textarea"),
        ("对新产品的倾向", "new_product_attitude", "text"), ("公司报价情况", "our_quotes", "textarea"),
        ("公司评价", "company_rating", "textarea"), ("业务承办人", "handler", "text"),
        ("业务介绍人", "referrer", "text"), ("特殊需求", "special_needs", "textarea"),
        ("异常信息", "anomalies", "textarea"), ("异常客户跟踪信息", "anomaly_tracking", "textarea"),
        ("记录", "record", "textarea"), ("费用", "cost", "money"), ("时间", "date", "date"),
        ("信息采集人", "collector", "user"),
    ],
    "abnormal_customer": [
        ("企业名称", "customer", "text"), ("企业标识/编号", "customer_no", "text"),
        ("业务类型", "business_type", "text"), ("异常产生类型", "anomaly_type", "checks"),
        ("异常客户跟踪", "tracking", "textarea"), ("正常确认人", "cleared_by", "user"),
        ("正常确认日期", "cleared_on", "date"), ("信息采集人", "collector", "user"),
    ],
    "phone_log": [
        ("联系日期", "date", "date"), ("序号", "seq", "int"), ("时间", "time", "time"),
        ("客户名称", "customer_name", "text"), ("编号", "customer_no", "text"),
        ("找到谁", "reached", "contact"), ("联系方式", "contact", "text"),
        ("电话沟通内容", "content", "textarea"), ("信息跟踪内容", "tracking", "textarea"),
        ("计划下次联络时间", "next_contact_at", "datetime"), ("对客户的承诺", "promise", "text"),
        ("需完成工作", "todo", "text"), ("完成时间", "todo_done_at", "date"),
    ],
    "customer_info": [
        ("企业名称", "name", "text"), ("企业简称", "short_name", "text"),
        ("企业标识/编号", "customer_no", "text"), ("客户类别", "category", "choice"),
        ("客户来源", "source", "choice"), ("法人代表", "legal_rep", "text"),
        ("联系人", "contact", "text"), ("地址", "address", "text"),
        ("关键决策人", "decision_maker", "text"), ("邮编", "postcode", "text"),
        ("电话", "phone", "text"), ("传真", "fax", "text"), ("E-mail", "email", "text"),
        ("企业性质", "ownership", "choice"), ("企业类型", "business_type", "choice"),
        ("企业所属行业", "industry", "choice"), ("主营产品", "main_products", "text"),
        ("企业规模", "scale", "text"), ("年产值", "annual_output", "text"),
        ("市场占有率", "market_share", "percent"), ("销售额", "revenue", "text"),
        ("效益", "benefit", "text"), ("成本", "cost", "text"), ("利润", "profit", "text"),
        ("开户银行", "bank", "text"), ("销售费用", "sales_expense", "text"),
        ("企业资信", "credit", "choice"), ("账户\\账号", "account_no", "text"),
        ("异常情况", "anomalies", "textarea"), ("信息采集人", "collector", "user"),
    ],
    "visit_report": [
        ("日期", "date", "date"), ("客户名称", "customer_name", "text"),
        ("客户编号", "customer_no", "text"), ("拜访处在哪个阶段", "stage", "choice"),
        ("拜访对象", "visitee", "contact"), ("拜访时间", "visited_at", "datetime"),
        ("拜访地点", "place", "text"), ("拜访主要内容", "agenda", "textarea"),
        ("要达到什么样的结果", "goal", "textarea"), ("拜访陪同人", "companions", "text"),
        ("关键评估元素情况", "element", "text"), ("我们的成功", "our_wins", "text"),
        ("我们的失败", "our_losses", "text"), ("客户建议", "customer_advice", "text"),
        ("拜访中对客户的承诺", "promise", "text"), ("反馈时间", "due", "date"), ("责任人", "owner", "text"),
        ("任务行动计划", "action_plan", "text"), ("约定下次拜访时间", "next_visit_at", "datetime"),
        ("约定下次拜访的地点", "next_visit_place", "text"),
        ("下次拜访目的", "next_visit_purpose", "text"), ("下次拜访主要计划", "next_visit_plan", "text"),
        ("对此客户下一步拟采取行动计划", "next_actions", "textarea"),
    ],
    "resource_request": [
        ("日期", "date", "date"), ("客户分类", "customer_class", "choice"),
        ("项目名称", "project_name", "text"), ("客户", "customer_name", "text"),
        ("客户编号", "customer_no", "text"), ("需何支援", "support_needed", "textarea"),
        ("支援原因", "reason", "textarea"), ("支持时间", "support_period", "text"),
        ("支持形式", "support_form", "checks"), ("有何要求", "requirements", "textarea"),
        ("预期目标", "expected_outcome", "textarea"), ("资料附件", "attachments", "files"),
    ],
    "bid_deviation": [
        ("制定日期", "date", "date"), ("客户名称", "customer_name", "text"),
        ("客户编号", "customer_no", "text"), ("项目名称", "project_name", "text"),
        ("序号", "seq", "int"), ("招标文件条目号", "tender_clause_no", "text"),
        ("招标文件的商务条款", "tender_term", "text"), ("投标文件的商务条款", "bid_term", "text"),
        ("说明", "note", "text"),
    ],
    "contract_review": [
        ("日期", "date", "date"), ("合同名称", "contract_name", "text"),
        ("合同编号", "contract_no", "text"), ("客户名称", "customer_name", "text"),
        ("客户编号", "customer_no", "text"), ("增值税号", "vat_no", "text"),
        ("增值税发票地址", "invoice_address", "text"), ("开户行名称", "bank", "text"),
        ("账号", "account_no", "text"), ("税务登记电话", "tax_phone", "text"),
        ("姓名", "name", "user"), ("职位", "title", "text"), ("所属部门", "department", "text"),
        ("评审结果", "result", "text"), ("商务条款", "commercial_terms", "textarea"),
        ("综合意见", "overall", "textarea"), ("项目执行", "execution", "textarea"),
    ],
    "handover": [
        ("日期", "date", "date"), ("合同名称", "contract_name", "text"),
        ("合同编号", "contract_no", "text"), ("客户名称", "customer_name", "text"),
        ("客户编号", "customer_no", "text"), ("项目名称", "project_name", "text"),
        ("交接日期", "handover_date", "date"), ("购买产品范围", "products", "textarea"),
        ("产品功能范围", "functions", "textarea"), ("产品标准报价", "list_price", "money"),
        ("实施划拨费用", "implementation_budget", "money"), ("实施开始日期", "impl_start", "date"),
        ("实施结束日期", "impl_end", "date"), ("培训情况", "training", "textarea"),
        ("工程实施范围", "impl_scope", "textarea"), ("实施内容及目标", "impl_goals", "textarea"),
        ("主要客户承诺", "customer_commitments", "textarea"), ("备注", "remarks", "textarea"),
    ],
    "survey_report": [
        ("日期", "date", "date"), ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("地点", "place", "text"), ("调研日期", "survey_date", "date"), ("调研部门", "dept", "text"),
        ("调研对象", "person", "contact"), ("职务", "title", "text"), ("电话", "phone", "text"),
        ("联系人", "contact", "contact"), ("电话", "contact_phone", "text"), ("传真", "contact_fax", "text"),
        ("EMAIL", "contact_email", "text"), ("调研范围", "scope", "textarea"), ("调研目标", "goals", "textarea"),
        ("调研议程", "agenda", "textarea"), ("需求特点及描述", "needs", "textarea"),
        ("客户关注点", "concerns", "textarea"), ("客户建议", "customer_advice", "textarea"),
        ("初步方案优势", "strengths", "textarea"), ("初步方案劣势", "weaknesses", "textarea"),
        ("改进措施", "improvements", "textarea"), ("备注", "remarks", "textarea"),
    ],
    "customer_feedback": [
        ("日期", "date", "date"), ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("项目名称", "project_name", "text"), ("拜访人", "person", "contact"), ("部门", "dept", "text"),
        ("职务", "title", "text"), ("影响力", "influence", "choice"), ("个人特征", "traits", "text"),
        ("意见", "opinion", "textarea"), ("关注焦点", "focus", "textarea"),
    ],
    # The sheets of the toolkit's later groups (paper-forms-toolkit.md, Part 1).
    "purchase_process": [
        ("步骤", "step", "int"), ("采购过程", "activity", "text"), ("采购负责人", "owner", "contact"),
        ("职位", "title", "text"), ("考虑因素", "criteria", "textarea"),
    ],
    "buying_roles": [
        ("姓名", "person", "contact"), ("职务", "level", "choice"), ("科室", "dept", "choice"),
        ("角色", "role", "choice"), ("态度", "attitude", "choice"), ("联系", "closeness", "choice"),
    ],
    "relationship_plan": [
        ("日期", "date", "date"), ("与项目有关的角色", "role", "contact"), ("推动的影响力", "influence", "text"),
        ("和竞争同业间的关系", "competitor_relation", "text"), ("竞争同业间的活动情况", "competitor_activity", "text"),
        ("所在客户的科室", "customer_dept", "text"), ("强化对策", "actions", "textarea"), ("时间", "when", "date"),
        ("检查对策", "check", "textarea"),
    ],
    "showcase_plan": [
        ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"), ("项目名称", "project_name", "text"),
        ("交流目的", "purpose", "textarea"),
        ("姓名", "name", "contact"), ("部门", "dept", "text"), ("职位", "title", "text"),
        ("沟通风格", "comm_style", "text"), ("管理风格", "mgmt_style", "text"), ("关心问题", "concerns", "text"),
        ("姓名", "name", "user"), ("部门", "dept", "text"), ("职位", "title", "text"),
        ("承担角色", "role", "text"), ("针对关键人", "counterpart", "contact"), ("要解决的问题", "issues", "text"),
        ("交流议程", "agenda", "textarea"), ("存在的问题或障碍", "obstacles", "textarea"),
        ("给客户带来的价值", "value", "textarea"), ("可能存在的问题", "risks", "textarea"), ("优势", "strengths", "textarea"),
        ("如出现问题该如何处理", "contingency", "textarea"), ("交流达成目标", "target", "textarea"),
    ],
    "showcase_summary": [
        ("日期", "date", "date"), ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("项目名称", "project_name", "text"), ("交流时间", "held_on", "date"), ("交流地点", "place", "text"),
        ("联系人姓名", "contact", "contact"), ("部门与职位", "contact_dept_title", "text"),
        ("电话号码", "contact_phone", "text"), ("方案演示", "presenter", "text"), ("所属部门", "presenter_dept", "text"),
        ("演示情况", "demo_notes", "textarea"), ("方面", "aspect", "text"), ("我方建议", "our_advice", "textarea"),
        ("客户建议", "customer_advice", "textarea"), ("重要的资料、资源的协助", "resources_needed", "textarea"),
        ("竞争对手", "name", "text"), ("优势", "strengths", "textarea"), ("劣势", "weaknesses", "textarea"),
        ("改进措施", "improvements", "textarea"), ("建议", "suggestions", "textarea"),
    ],
    "proposal": [
        ("填写日期", "date", "date"), ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("项目名称", "project_name", "text"), ("背景介绍", "background", "textarea"), ("项目目的", "purpose", "textarea"),
        ("项目范围及工作成果", "scope_deliverables", "textarea"), ("具体工作安排", "work_plan", "textarea"),
        ("费用说明", "fees", "textarea"), ("付款方式", "payment_terms", "textarea"),
        ("售后服务说明", "after_sales", "textarea"), ("客户的一些特殊要求", "special_requirements", "textarea"),
    ],
    "relationship_plan_b": [
        ("日期", "date", "date"), ("客户角色", "role", "contact"), ("推动的影响力", "influence", "text"),
        ("和竞争同业间之前的关系", "competitor_relation_before", "text"),
        ("和竞争同业间发展的关系", "competitor_relation_trend", "text"), ("本公司对应的负责人员", "our_owner", "user"),
        ("强化对策", "actions", "textarea"), ("时间表", "schedule", "text"), ("检查对策", "check", "textarea"),
    ],
    "negotiation_plan": [
        ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"), ("项目名称", "project_name", "text"),
        ("姓名", "name", "user"), ("职位", "title", "text"), ("职责", "duty", "text"),
        ("联系方式", "contact_info", "text"), ("姓名", "name", "contact"), ("职位", "title", "text"),
        ("职责", "duty", "text"), ("联系方式", "contact_info", "text"), ("合作谈判目标", "goal", "textarea"),
        ("合作谈判推进进度表", "schedule", "textarea"), ("合同样本", "contract_sample", "files"),
        ("项目经理及成员安排", "pm_and_team", "textarea"), ("合同工作范围", "scope", "textarea"),
        ("产品策略与产品配置", "product_strategy", "textarea"), ("总价和分价格策略", "pricing", "textarea"),
        ("价格折让策略", "discount_strategy", "textarea"), ("价格底限", "price_floor", "text"),
        ("付款方式", "payment_terms", "textarea"), ("处罚方式", "penalties", "textarea"),
        ("阶段验收标准", "acceptance", "textarea"), ("知识产权约定", "ip_terms", "textarea"), ("其他", "other", "textarea"),
    ],
    "negotiation_log": [
        ("日期", "date", "date"), ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("项目名称", "project_name", "text"), ("谈判次数", "round", "int"), ("负责人", "lead", "user"),
        ("参与人员", "our_people", "text"), ("客户谈判人", "customer_people", "contact"), ("日期", "date", "date"),
        ("主要成果", "outcome", "textarea"), ("条款修改意见", "clause_changes", "textarea"),
        ("修改负责人", "change_owner", "user"), ("其他信息", "other", "textarea"),
    ],
}

CHOICES = {
    ("customer_info", "category"): ("一般", "重要", "VIP"),
    ("customer_info", "source"): ("广告反馈", "展会", "老客户介绍", "主动上门", "销售人员发掘"),
    ("customer_info", "ownership"): ("外资", "合资", "国有", "集体", "个体", "其他"),
    ("customer_info", "business_type"): ("生产型", "贸易型", "服务型", "其他"),
    ("customer_info", "industry"): ("航空", "机械", "电器", "电信", "烟草", "信息", "传媒", "政府", "其他"),
    ("customer_info", "credit"): ("红", "灰", "黑", "白"),
    ("visit_report", "stage"): ("客户规划与电话邀约", "客户拜访", "提交初步方案", "方案演示与业绩展示",
                                "需求性分析及方案确定", "项目评估", "合作谈判", "成交"),
    # The fifth box is printed blank: a write-in, not 其他 (paper-forms-toolkit.md Part 2 #3).
    ("resource_request", "customer_class"): ("A类客户", "B类客户", "C类客户", "D类客户"),
    ("resource_request", "support_form"): ("出差", "提供专业服务", "其他"),
}
CHOICES[("abnormal_customer", "anomaly_type")] = ("过高/过低消费", "行为变化异常", "信用度很低", "客户流失")
TABLE_CHOICES = {
    ("customer_feedback", "respondents", "influence"): ("一般成员", "核心成员", "组织者", "决策者"),
    ("buying_roles", "people", "level"): ("操作层", "管理层", "决策层"),
    ("buying_roles", "people", "dept"): ("财务", "采购", "使用", "技术"),
    ("buying_roles", "people", "role"): ("发起者", "设计者", "决策者", "使用者", "评估者"),
    ("buying_roles", "people", "attitude"): ("支持者", "中立者", "反对者"),
    ("buying_roles", "people", "closeness"): ("密切", "频繁", "疏远", "未联系"),
}

REVIEW = ("业务经理/组长审阅", "team_manager")
PROJECT_SOURCES = {"customer_name": "customer.name", "customer_no": "customer.customer_no",
                   "project_name": "project.name"}

# key: (prefix, author label, header date label, slots as (label, signer), sources)
SHEETS = {
    "marketing_activity": ("YX", "填写人", None, [("信息审核人", "team_manager")],
                           {"customer": "customer.name", "customer_no": "customer.customer_no"}),
    "abnormal_customer": ("YC", "填写人", None, [("信息审核人", "team_manager")],
                          {"customer": "customer.name", "customer_no": "customer.customer_no"}),
    "phone_log": ("DH", "填写人", "联系日期", [("业务经理/组长审阅", "team_manager")], {}),
    "customer_info": ("KH", "填写人", None, [("信息审核人", "team_manager")],
                      {"customer_no": "customer.customer_no"}),
    "visit_report": ("BF", "大客户经理", "日期", [("领导建议", "team_manager")],
                     {"customer_name": "customer.name", "customer_no": "customer.customer_no"}),
    "resource_request": ("ZY", "填表人", "日期",
                         [("所属部门领导审核", "team_manager"), ("总经理审核", "role:gm"),
                          ("人力资源管理部门领导", "role:hr")],
                         {"project_name": "project.name", "customer_name": "customer.name",
                          "customer_no": "customer.customer_no"}),
    "bid_deviation": ("PL", "填写人", "制定日期",
                      [("客户经理综合意见", "project_owner"), ("销售主管综合意见", "team_manager")],
                      {"customer_name": "customer.name", "customer_no": "customer.customer_no",
                       "project_name": "project.name"}),
    "contract_review": ("HP", "填写人", "日期",
                        [("评审人确认", "table:reviewers.name"), ("审核", "team_manager"),
                         ("批准", "role:gm")],
                        {"customer_name": "customer.name", "customer_no": "customer.customer_no"}),
    "handover": ("JJ", "填写人", "日期",
                 [("销售经理", "team_manager"), ("技术工程师", "chosen:implementation"),
                  ("项目经理(生产经理)", "chosen:implementation")],
                 {"contract_name": "contract.contract_name", "contract_no": "contract.contract_no",
                  "customer_name": "customer.name", "customer_no": "customer.customer_no",
                  "project_name": "project.name"}),
    "survey_report": ("DY", "项目经理", "日期",
                      [("项目经理", "project_owner"), ("领导建议", "team_manager")],
                      {"customer_name": "customer.name", "customer_no": "customer.customer_no"}),
    "customer_feedback": ("YJ", "大客户经理", "日期",
                          [("项目经理综合意见", "project_owner"), ("销售总监意见", "role:director"),
                           ("技术总监/项目总监意见", "chosen:implementation")],
                          {"customer_name": "customer.name", "customer_no": "customer.customer_no",
                           "project_name": "project.name"}),
    # No signature printed: the area manager reviews, as on 电话记录表 (sales-process.md).
    "purchase_process": ("CG", "填写人", None, [REVIEW], {}),
    "buying_roles": ("JS", "填写人", None, [REVIEW], {}),
    "relationship_plan": ("QH", "填写人", "日期", [REVIEW], {}),
    "showcase_plan": ("ZSJ", "填写人", None, [REVIEW], PROJECT_SOURCES),
    "showcase_summary": ("ZSZ", "项目经理", "日期", [("领导签字", "team_manager")], PROJECT_SOURCES),
    "proposal": ("FA", "填写人", "填写日期", [REVIEW], PROJECT_SOURCES),
    "relationship_plan_b": ("QHB", "填写人", "日期", [REVIEW], {}),
    "negotiation_plan": ("TPJ", "填写人", None, [REVIEW], PROJECT_SOURCES),
    "negotiation_log": ("TPL", "填写人", "日期", [REVIEW], PROJECT_SOURCES),
}

SPECS = registry.all_specs()


# The person master's sheets and the two diagrams (paper-forms-toolkit.md 8, 12, 14, 20).
PAPER.update({
    "contact": [
        ("填写时间", "date", "date"), ("客户", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("姓名", "name", "text"), ("职位", "title", "text"), ("服务企业", "employer", "text"),
        ("客情状态", "rapport", "choice"), ("影响力", "influence", "choice"), ("关系性质", "relation_type", "choice"),
        ("关系状态", "relation_state", "choice"), ("性别", "gender", "text"), ("年龄", "age", "int"),
        ("政治面貌", "political_status", "text"), ("住址", "home_address", "text"), ("邮编", "postcode", "text"),
        ("电话", "phone", "text"), ("传真", "fax", "text"), ("E-mail", "email", "text"), ("生日", "birthday", "date"),
        ("出生地", "birthplace", "text"), ("毕业学校", "school", "text"), ("专业", "major", "text"),
        ("性格", "personality", "choice"), ("兴趣", "interests", "text"), ("喜爱运动", "sports", "text"),
        ("家族成员状况", "family", "textarea"), ("社交圈", "social_circle", "textarea"), ("个人资信", "personal_credit", "text"),
        ("信息采集人", "collector", "user"),
    ],
    "org_chart": [
        ("日期", "date", "date"), ("客户名称", "customer_name", "text"), ("客户编号", "customer_no", "text"),
        ("姓名", "person", "contact"), ("职务", "title", "text"), ("科室", "dept", "text"),
        ("上级", "reports_to", "contact"), ("级别", "level", "choice"), ("角色", "role", "choice"),
        ("态度", "attitude", "choice"), ("联系", "closeness", "choice"),
    ],
    "relationship_map": [
        ("日期", "date", "date"), ("项目名称", "project_name", "text"), ("项目编号", "project_no", "text"),
        ("项目决策人", "person", "contact"), ("所属部门", "dept", "text"), ("对项目的作用", "role_in_project", "text"),
        ("目前的关系", "relation", "text"), ("影响项目的比重", "weight", "percent"), ("评估结果分析", "analysis", "textarea"),
    ],
    "decision_maker": [
        ("日期", "date", "date"), ("姓名", "name", "text"), ("职位", "title", "text"), ("服务企业", "employer", "text"),
        ("性别", "gender", "text"), ("年龄", "age", "int"), ("政治面貌", "political_status", "text"),
        ("住址", "home_address", "text"), ("邮编", "postcode", "text"), ("电话", "phone", "text"), ("传真", "fax", "text"),
        ("E-mail", "email", "text"), ("生日", "birthday", "date"), ("出生地", "birthplace", "text"),
        ("性格", "personality", "choice"), ("兴趣", "interests", "text"), ("喜爱运动", "sports", "text"),
        ("教育背景", "education", "textarea"), ("社会经历", "career", "textarea"), ("婚姻状况", "marital_status", "text"),
        ("结婚纪念日", "wedding_anniversary", "date"), ("配偶姓名", "spouse_name", "text"),
        ("配偶生日", "spouse_birthday", "date"), ("配偶的兴趣/爱好", "spouse_interests", "text"),
        ("子女姓名", "child_name", "text"), ("子女年龄", "child_age", "text"), ("子女溺爱程度", "child_indulgence", "text"),
        ("子女生日", "child_birthday", "date"), ("子女的兴趣/爱好", "child_interests", "text"),
        ("家族其他成员情况", "other_family", "textarea"), ("社交圈", "social_circle", "textarea"),
        ("个人资信", "personal_credit", "text"), ("信息采集人", "collector", "user"),
    ],
})

def flat(spec):
    out = []
    for item in spec.items():
        columns = item.columns if isinstance(item, Table) else (item,)
        out += [(f.label, f.key, f.kind) for f in columns]
    return out


# The whole toolkit in paper order (paper-forms-toolkit.md, "Paper order of the whole toolkit").
PAPER_ORDER = [
    "phone_log", "customer_info", "contact", "customer_assessment", "visit_report", "resource_request",
    "marketing_activity", "purchase_process", "org_chart", "buying_roles", "relationship_map",
    "relationship_plan", "survey_report", "customer_feedback", "showcase_plan", "showcase_summary",
    "decision_maker", "proposal", "competitor_analysis", "factor_analysis", "relationship_plan_b",
    "buying_criteria", "negotiation_plan", "bid_deviation", "negotiation_log", "contract_review", "handover",
    "abnormal_customer",
]


def test_the_sheets_come_in_paper_order():
    keys = [s.key for s in SPECS]
    assert set(keys) <= set(PAPER_ORDER)
    assert keys == [k for k in PAPER_ORDER if k in keys]
    assert [s.order for s in SPECS] == [PAPER_ORDER.index(k) + 1 for k in keys]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_definition_is_valid(spec):
    check_spec(spec)
    assert registry.get(spec.key) is spec


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_every_paper_field_in_paper_order(spec):
    if spec.key not in PAPER:
        pytest.skip("not a first-release sheet")
    assert flat(spec) == PAPER[spec.key]
    for (sheet, key), choices in CHOICES.items():
        if sheet == spec.key:
            assert spec.field(key).choices == choices
    for (sheet, table, key), choices in TABLE_CHOICES.items():
        if sheet == spec.key:
            assert spec.table(table).column(key).choices == choices


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_header_slots_and_sources(spec):
    if spec.key not in SHEETS:
        pytest.skip("not a first-release sheet")
    prefix, author, date_label, slots, sources = SHEETS[spec.key]
    assert spec.prefix == prefix
    assert spec.author_label == author
    header = spec.header_date()
    assert (header.label if header else None) == date_label
    if header:
        assert header.default == "today" and header.required
    assert [(s.label, s.signer) for s in spec.slots] == slots
    assert {f.key: f.source for f in spec.source_fields()} == sources


@pytest.mark.parametrize("spec", [s for s in SPECS if s.group], ids=lambda s: s.key)
def test_a_sheet_is_offered_first_at_the_stage_of_its_toolkit_group(spec):
    # paper-forms-toolkit.md Part 1: each group belongs to one stage (process.STAGES)
    assert spec.stages == tuple(s.code for s in STAGES if s.group == spec.group)


def test_the_two_printings_of_the_relationship_plan():
    visit, evaluation = registry.get("relationship_plan"), registry.get("relationship_plan_b")
    assert visit.title == evaluation.title == "强化客户关系计划表"
    assert (visit.group, evaluation.group) == ("上门拜访型", "项目评估型")
    a, b = ({c.key: c for c in spec.table("plans").columns} for spec in (visit, evaluation))
    assert len(a) == len(b) == 8
    assert set(a) & set(b) == {"role", "influence", "actions", "check"}  # shared columns keep shared keys
    assert a["role"].kind == b["role"].kind == "contact"
    assert set(a) - set(b) == {"competitor_relation", "competitor_activity", "customer_dept", "when"}
    assert b["our_owner"].kind == "user" and b["schedule"].kind == "text" and a["when"].kind == "date"


def test_sheet_specific_rules_from_the_paper():
    visit = registry.get("visit_report")
    assert visit.note == "注意：不一定在第二阶段，销售过程中任何阶段存在拜访都得填写该表。"
    assert visit.slots[0].comment_required and visit.slots[0].comment_label == "领导建议"
    assert all(s.comment_required for s in registry.get("bid_deviation").slots)
    customer = registry.get("customer_info")
    assert customer.updates_customer and not customer.field("name").source
    assert {s.key for s in SPECS if s.followup} >= {"phone_log", "visit_report"}
    assert registry.get("visit_report").table("findings").label == "拜访实际情况"
    assert registry.get("visit_report").table("promises").label == "拜访中对客户的承诺"
    assert registry.get("contract_review").table("reviewers").label == "参加评审人员"


def test_customer_level_sheets_as_the_toolkit_specifies():
    """营销活动表 (10) and 异常客户信息表 (28): filed on the customer, no printed
    header, the record-keeping block in the order of sheets 8, 10, 20, 28."""
    for key, group, stage in (("marketing_activity", "上门拜访型", "contact"), ("abnormal_customer", "签约成交型", "won")):
        spec = registry.get(key)
        assert spec.filed_on == "customer" and not spec.paper_header
        assert (spec.group, spec.stages) == (group, (stage,))
        assert spec.record_block == ("registered", "collected", "entered", "reviewer", "review_mark", "revisions")
    assert registry.get("marketing_activity").table("activities").label == "营销活动记录、费用、时间"
    cleared = registry.get("abnormal_customer")
    assert {cleared.field(k).print_label for k in ("cleared_by", "cleared_on")} == {"正常确认"}


def test_part_two_corrections_to_the_first_sheets():
    """paper-forms-toolkit.md Part 2, each where the definition holds it."""
    info = registry.get("customer_info")
    assert info.record_block == ("registered", "entered", "collected", "review_mark", "reviewer", "revisions")  # 1
    assert info.group == "电话邀约型" and not info.paper_header  # 2
    request = registry.get("resource_request")
    assert request.field("customer_class").write_in and "其他" not in request.field("customer_class").choices  # 3
    assert (request.sign_title, request.group, request.version) == ("审批", "上门拜访型", 2)
    visit = registry.get("visit_report")
    assert visit.table("promises").columns[0].label == "拜访中对客户的承诺" and not visit.table("promises").print_caption
    assert (visit.table("findings").start_rows, visit.table("promises").start_rows) == (3, 4)  # 4
    assert registry.get("bid_deviation").title == "商务条款偏离表(格式)"  # 5
    review = registry.get("contract_review")
    assert review.author_at_foot and review.group == "合作谈判型"  # 6
    assert registry.get("customer_feedback").slots[2].label == "技术总监/项目总监意见"  # 8
    handover = registry.get("handover")
    assert {handover.field(k).print_label for k in ("impl_start", "impl_end")} == {"实施开始日期及结束日期"}
    from salestrack.process import PROBABILITIES, STAGE_BY_CODE
    assert STAGE_BY_CODE["showcase"].milestone == "业绩展示"  # sales-process #1
    assert dict(PROBABILITIES)[100] == "代理或客户与我们签定合约，并且已做销售收入确认"  # sales-process #3


def test_every_kind_is_used_by_some_sheet():
    assert {kind for spec in SPECS for _, _, kind in flat(spec)} == set(KINDS)


def test_load_builtin_is_idempotent():
    before = [s.key for s in registry.all_specs()]
    registry.load_builtin()
    registry.load_builtin()
    assert [s.key for s in registry.all_specs()] == before


def test_get_unknown_sheet_is_a_key_error():
    with pytest.raises(KeyError):
        registry.get("no_such_sheet")


def small_spec(**changes):
    spec = FormSpec(
        key="trial_sheet", title="试验表", title_en="Trial", prefix="TS", group="", stages=(),
        version=1, author_label="填写人",
        sections=(Section("", "", (
            Field("date", "日期", "Date", "date", default="today"),
            Table("rows", "明细", "Rows", (Field("who", "人员", "Person", "user"),
                                            Field("what", "事项", "Item", "text"))),
        )),),
        slots=(Slot("check", "审核", "Check", "team_manager"),))
    return replace(spec, **changes)


@pytest.fixture
def clean_registry():
    yield
    registry.unregister("trial_sheet")
    registry.unregister("trial_two")


def test_register_and_unregister(clean_registry):
    spec = registry.register(small_spec())
    assert registry.get("trial_sheet") is spec
    assert spec in registry.all_specs()
    registry.unregister("trial_sheet")
    with pytest.raises(KeyError):
        registry.get("trial_sheet")


def test_register_refuses_a_duplicate_key(clean_registry):
    registry.register(small_spec())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(small_spec(prefix="TT"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(replace(registry.get("phone_log"), prefix="XX"))


def test_register_refuses_a_duplicate_prefix(clean_registry):
    registry.register(small_spec())
    with pytest.raises(ValueError, match="prefix"):
        registry.register(small_spec(key="trial_two"))
    with pytest.raises(ValueError, match="prefix"):
        registry.register(small_spec(key="trial_two", prefix="DH"))


def test_register_refuses_a_bad_signer(clean_registry):
    with pytest.raises(ValueError, match="signer"):
        registry.register(small_spec(slots=(Slot("x", "审核", "Check", "the_boss"),)))
    with pytest.raises(KeyError):
        registry.get("trial_sheet")


def field_spec(*fields):
    return small_spec(sections=(Section("", "", fields),))


@pytest.mark.parametrize("spec, message", [
    (field_spec(Field("a", "甲", "A", "text"), Field("a", "乙", "B", "text")), "duplicate key"),
    (field_spec(Field("a", "甲", "A", "colour")), "unknown kind"),
    (field_spec(Field("a", "甲", "A", "choice")), "needs choices"),
    (field_spec(Field("a", "甲", "A", "checks", choices=("x", "x"))), "duplicate choices"),
    (field_spec(Field("a", "甲", "A", "text", choices=("x",))), "only choice and checks"),
    (field_spec(Field("a", "甲", "A", "text", source="project.owner")), "unknown source"),
    (field_spec(Field("a", "甲", "A", "text", source="project.name", required=True)), "source"),
    (field_spec(Field("a", "甲", "A", "user", role="boss")), "role"),
    (field_spec(Field("a", "甲", "A", "text", default="today")), "today"),
    (field_spec(Field("Bad-Key", "甲", "A", "text")), "bad key"),
    (field_spec(Field("data", "甲", "A", "text")), "reserved"),
    (field_spec(Field("a", "", "A", "text")), "no label"),
    (field_spec(Field("a", "甲", "A", "checks", choices=("x", "其他")), Field("a_other", "乙", "B", "text")),
     "duplicate key"),
    (field_spec(Table("t", "表", "T", (Field("c", "列", "C", "text", source="customer.name"),))), "source"),
    (field_spec(Table("t", "表", "T", (Field("c", "列", "C", "date", default="today"),))), "default"),
    (field_spec(Table("t", "表", "T", ())), "no columns"),
    (small_spec(prefix=""), "prefix"),
    (small_spec(prefix="dh"), "prefix"),
    (small_spec(key=""), "key"),
    (small_spec(stages=("someday",)), "stage"),
    (small_spec(group="不存在型"), "group"),
    (small_spec(sections=()), "sections"),
    (small_spec(slots=(Slot("a", "甲", "A", "role:boss"),)), "role"),
    (small_spec(slots=(Slot("a", "甲", "A", "chosen:"),)), "role"),
    (small_spec(slots=(Slot("a", "甲", "A", "table:missing.who"),)), "missing table column"),
    (small_spec(slots=(Slot("a", "甲", "A", "table:rows.nobody"),)), "missing table column"),
    (small_spec(slots=(Slot("a", "甲", "A", "table:rows.what"),)), "not a user column"),
    (small_spec(slots=(Slot("a", "甲", "A", "team_manager"), Slot("a", "乙", "B", "role:gm"))),
     "duplicate slot"),
])
def test_check_spec_refuses(spec, message):
    with pytest.raises(ValueError, match=message):
        check_spec(spec)


def test_small_spec_itself_is_valid():
    check_spec(small_spec(slots=(Slot("who", "确认", "Confirm", "table:rows.who"),)))


@pytest.mark.parametrize("rule, parsed", [
    ("team_manager", ("team_manager", None)),
    ("role:gm", ("role", "gm")),
    ("chosen:implementation", ("chosen", "implementation")),
    ("table:reviewers.name", ("table", ("reviewers", "name"))),
])
def test_parse_signer(rule, parsed):
    assert parse_signer(rule) == parsed



def test_person_sheets_mark_exactly_the_persons_private_fields_and_write_only_person_attributes():
    from salestrack.people import BASIC, PRIVATE, PRIVATE_FIELDS
    known = {f.key for f in BASIC + PRIVATE}
    for spec in (s for s in SPECS if s.updates_person):
        for field in spec.person_fields():
            attr = field.prefill.partition(".")[2]
            assert attr in known, (spec.key, attr)
            assert field.private == (attr in PRIVATE_FIELDS), (spec.key, attr)
        assert [f.key for f in spec.private_fields()] == [f.key for f in spec.person_fields() if f.private]
        assert spec.slots[0].label == "信息审核人"
        assert spec.record_block == ("registered", "collected", "entered", "reviewer", "review_mark", "revisions")
    assert registry.get("decision_maker").marks_key_decision_maker
    assert not registry.get("contact").marks_key_decision_maker


def test_a_bad_fill_drawing_or_person_prefill_is_refused():
    from salestrack.formkit.spec import Drawing
    rows = Table("rows", "明细", "Rows", (Field("who", "人员", "Person", "contact", fills=(("tel", "phone"),)),
                                        Field("tel", "电话", "Phone", "text")))
    check_spec(small_spec(sections=(Section("", "", (rows,)),)))
    for bad in (Field("who", "人员", "Person", "contact", fills=(("nowhere", "phone"),)),
                Field("who", "人员", "Person", "contact", fills=(("tel", "birthday"),)),
                Field("who", "人员", "Person", "text", fills=(("tel", "phone"),))):
        with pytest.raises(ValueError, match="fills"):
            check_spec(small_spec(sections=(Section("", "", (replace(rows, columns=(bad, rows.columns[1])),)),)))
    drawn = replace(rows, drawing=Drawing(kind="tree", title="图", node="who", parent="missing"))
    with pytest.raises(ValueError, match="missing column"):
        check_spec(small_spec(sections=(Section("", "", (drawn,)),)))
    drawn = replace(rows, drawing=Drawing(kind="bars", title="图", node="who", length="tel"))
    with pytest.raises(ValueError, match="percent"):
        check_spec(small_spec(sections=(Section("", "", (drawn,)),)))
    with pytest.raises(ValueError, match="person"):
        check_spec(small_spec(sections=(Section("", "", (Field("n", "姓名", "Name", "text", prefill="person.name"),)),)))
