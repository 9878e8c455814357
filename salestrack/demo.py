"""Demo data: the accounts listed in README, two teams, a dozen customers and
projects spread over the stages with a plausible history, and a few sheets
taken through the real sign-off chain: approved and sealed into the archive,
one handover in the implementation worklist, one request in the inbox."""
from datetime import timedelta
from decimal import Decimal

from . import clock, operations
from .extensions import db
from .models import Instalment, Project, ProjectEvent, ProjectNode, utcnow
from .process import STAGE_NODES

ACCOUNTS = (
    # username, name, role, team, title
    ("manager", "李娜", "manager", "华东片区", "业务经理"),
    ("manager2", "陈刚", "manager", "华南片区", "销售主管"),
    ("rep", "张伟", "rep", "华东片区", "大客户经理"),
    ("rep2", "王芳", "rep", "华东片区", "大客户经理"),
    ("rep3", "刘洋", "rep", "华南片区", "大客户经理"),
    ("director", "赵敏", "director", None, "销售总监"),
    ("gm", "孙建国", "gm", None, "总经理"),
    ("hr", "周婷", "hr", None, "人力资源部经理"),
    ("impl", "吴磊", "implementation", None, "项目经理"),
    ("engineer", "郑浩", "implementation", None, "技术工程师"),
    ("clerk", "冯雪", "clerk", None, "工程文员"),
    ("auditor", "钱进", "auditor", None, "审计"),
    ("admin", "系统管理员", "admin", None, None),
)

CUSTOMERS = (
    ("苏州恒力精密机械有限公司", "恒力精机", "机械", "展会", "VIP", "顾建华", "0512-6588 1234", "苏州工业园区星湖街 88 号"),
    ("上海东方电气设备有限公司", "东方电气", "电器", "老客户介绍", "重要", "沈立", "021-5466 7788", "上海市闵行区剑川路 950 号"),
    ("杭州华信通信技术股份有限公司", "华信通信", "电信", "广告反馈", "重要", "林涛", "0571-8809 2233", "杭州市滨江区长河路 590 号"),
    ("南京航天测控科技有限公司", "航天测控", "航空", "销售人员发掘", "VIP", "马骏", "025-8432 1100", "南京市江宁区将军大道 29 号"),
    ("无锡新锐自动化有限公司", "新锐自动化", "机械", "主动上门", "一般", "许峰", "0510-8521 6677", "无锡市新吴区长江路 21 号"),
    ("宁波港城烟草机械厂", "港城烟机", "烟草", "展会", "一般", "潘伟", "0574-8765 4321", "宁波市北仑区明州路 118 号"),
    ("广州粤海传媒集团", "粤海传媒", "传媒", "广告反馈", "重要", "梁静", "020-3866 5500", "广州市天河区体育东路 122 号"),
    ("深圳鹏程信息技术有限公司", "鹏程信息", "信息", "老客户介绍", "VIP", "黄志强", "0755-2698 3344", "深圳市南山区科技园南区 6 栋"),
    ("佛山顺德电器制造有限公司", "顺德电器", "电器", "销售人员发掘", "一般", "何明", "0757-2233 8899", "佛山市顺德区北滘镇工业大道 3 号"),
    ("东莞长安精工模具厂", "长安精工", "机械", "主动上门", "一般", "邓超", "0769-8555 1212", "东莞市长安镇振安路 66 号"),
    ("珠海市政务信息中心", "珠海政务", "政府", "销售人员发掘", "重要", "罗敏", "0756-2122 3030", "珠海市香洲区人民东路 2 号"),
    ("厦门海鹰航空部件有限公司", "海鹰航空", "航空", "展会", "VIP", "谢文", "0592-5701 8080", "厦门市翔安区航空城路 9 号"),
)

# customer index, owner, project name, product, amount (万元), stage, class, days in stage, days since follow-up, lead source
PROJECTS = (
    (0, "rep", "恒力精机数控车间 MES 系统", "MES 制造执行系统", "186.00", "negotiate", "A", 5, 3, "展会及研讨会"),
    (1, "rep", "东方电气智能仓储改造", "WMS 仓储系统", "92.50", "evaluate", "B", 12, 10, "客户介绍"),
    (2, "rep", "华信通信生产线视觉检测", "机器视觉检测", "45.80", "design", "B", 4, 20, "广告"),
    (3, "rep2", "航天测控试验数据平台", "数据采集平台", "230.00", "confirm", "A", 9, 40, "公司领导资源"),
    (4, "rep2", "新锐自动化设备联网", "设备物联网关", "28.60", "contact", "C", 20, 45, "主动来电"),
    (5, "rep", "港城烟机备件管理", "备件管理系统", "16.00", "lead", "D", 30, 60, "陌生拜访"),
    (0, "rep", "恒力精机二期质量追溯", "质量追溯系统", "120.00", "won", "A", 15, 15, "客户介绍"),
    (6, "rep3", "粤海传媒媒资管理平台", "媒资管理", "75.00", "showcase", "B", 6, 8, "互联网"),
    (7, "rep3", "鹏程信息数据中心监控", "动环监控", "310.00", "negotiate", "A", 3, 2, "朋友介绍"),
    (8, "rep3", "顺德电器能耗管理", "能源管理系统", "54.00", "lost", "C", 40, 50, "DM直投"),
    (9, "rep3", "长安精工模具车间排产", "APS 高级排产", "38.00", "postponed", "C", 25, 70, "陌生拜访"),
    (10, "rep3", "珠海政务机房改造", "机房工程", "160.00", "design", "B", 10, 16, "公司领导资源"),
    (11, "rep2", "海鹰航空部件追溯", "质量追溯系统", "88.00", "lead", "C", 2, 5, "展会及研讨会"),
)

STAGE_PATH = ("lead", "contact", "design", "showcase", "confirm", "evaluate", "negotiate", "won")
STAGE_PROBABILITY = {"lead": 20, "contact": 20, "design": 40, "showcase": 40, "confirm": 60,
                     "evaluate": 60, "negotiate": 80, "won": 100, "lost": 0, "postponed": 20}


def load_demo(password: str) -> str:
    """The demo accounts (every one with `password`, "demo" by default: a
    published password, so they are exempt from the password policy — only
    here — and the demo command refuses a production instance), teams,
    customers, projects and signed sheets. Returns a summary line."""
    teams = {}
    users = {}
    for username, name, role, team_name, title in ACCOUNTS:
        team = teams.get(team_name)
        if team_name and team is None:
            team = teams[team_name] = operations.create_team(None, team_name)
        users[username] = operations.create_user(None, username=username, name=name, role=role, password=password,
                                                 team=team, email=f"{username}@example.com", title=title,
                                                 check_policy=False)
        if role == "manager" and team is not None and team.manager_id is None:
            operations.set_team_manager(None, team, users[username])

    customers = []
    for i, (name, short, industry, source, category, contact, phone, address) in enumerate(CUSTOMERS):
        owner = users[next(p[1] for p in PROJECTS if p[0] == i)]
        customers.append(operations.create_customer(
            owner, name=name, short_name=short, industry=industry, source=source, category=category,
            contact=contact, phone=phone, address=address))

    now = utcnow()
    projects = {}
    for ci, owner, name, product, amount, stage, klass, days_in, since_followup, lead in PROJECTS:
        rep = users[owner]
        project = operations.create_project(
            rep, name=name, customer_id=customers[ci].id, product_line=product, amount=Decimal(amount),
            probability=20, customer_class=klass, lead_source=lead,
            expected_sign_date=clock.today() + timedelta(days=30 * (1 + "ABCD".index(klass))),
            competitors="西门子、研华科技" if ci % 2 else "用友、鼎捷软件", funding="企业自筹")
        projects[name] = project
        _backdate_history(project, rep, stage, days_in, now)
        project.last_followup_at = now - timedelta(days=since_followup)
        project.followup_from = project.last_followup_at
        project.probability = STAGE_PROBABILITY[stage]
        if stage == "lost":
            project.lost_reason = "价格高于竞争对手 15%，客户选择了本地供应商"
        if stage == "won":
            project.signed_at = clock.local_date(now - timedelta(days=days_in))
            project.instalments.append(Instalment(
                seq=1, planned_date=project.signed_at + timedelta(days=30), planned_amount=Decimal(amount) * Decimal("0.3"),
                kind="software", actual_date=project.signed_at + timedelta(days=30),
                actual_amount=Decimal(amount) * Decimal("0.3")))
            project.instalments.append(Instalment(
                seq=2, planned_date=project.signed_at + timedelta(days=120),
                planned_amount=Decimal(amount) * Decimal("0.7"), kind="implementation"))
        if stage not in ("won", "lost") and days_in > 7:
            project.stage_stay_reason = "等待客户内部预算审批"
        db.session.commit()
    approved = _file_and_sign(users, projects)
    return (f"{len(users)} accounts, {len(teams)} teams, {len(customers)} customers, {len(PROJECTS)} projects, "
            f"{approved} approved sheets")


def _file_and_sign(users: dict, projects: dict) -> int:
    """Files sheets and signs them along their chains through operations, so
    the demo has sealed PDFs in the archive, a handover in the worklist and a
    request waiting in 李娜's inbox. Returns the number approved."""
    from .formkit import registry
    today = clock.today().isoformat()
    mes, wms, data_platform = (projects["恒力精机数控车间 MES 系统"], projects["东方电气智能仓储改造"],
                               projects["航天测控试验数据平台"])
    phase2 = projects["恒力精机二期质量追溯"]
    sheets = [
        ("phone_log", "rep", mes, {"date": today, "calls": [
            {"seq": 1, "time": "09:30", "customer_name": "苏州恒力精密机械有限公司", "reached": "顾建华 设备部部长",
             "contact": "0512-6588 1234", "content": "确认 MES 方案评审时间，客户希望先看车间排产模块演示。",
             "next_contact_at": f"{today}T15:00", "promise": "本周五前发送演示大纲", "todo": "准备演示环境"},
            {"seq": 2, "time": "14:10", "customer_name": "苏州恒力精密机械有限公司", "reached": "周立 采购经理",
             "contact": "0512-6588 1250", "content": "沟通付款方式，客户倾向于 3-6-1 分期。",
             "tracking": "需与财务确认分期条件", "todo": "报价单按分期方式调整"}]}, {}, "已阅，抓紧安排演示。"),
        ("visit_report", "rep", wms, {
            "date": today, "stage": "项目评估", "visitee": "沈立 仓储中心主任", "visited_at": f"{today}T10:00",
            "place": "上海闵行区客户仓储中心", "companions": "郑浩（技术工程师）",
            "agenda": "现场查看立体库改造区域，确认 WMS 与现有 ERP 的接口范围。",
            "goal": "拿到接口清单，约定方案评审时间。",
            "findings": [{"element": "接口范围", "our_wins": "客户认可我方 ERP 接口经验", "our_losses": "",
                          "customer_advice": "希望提供同行业案例"}],
            "promises": [{"promise": "提供两个仓储行业案例", "due": today, "owner": "张伟", "action_plan": "整理案例资料"}],
            "next_actions": "两周内提交正式方案，争取进入商务谈判。"}, {}, "案例资料请技术部一起准备，下周内回复客户。"),
        ("contract_review", "rep", phase2, {
            "date": today, "contract_name": "恒力精机二期质量追溯系统合同", "contract_no": "HT-2026-0218",
            "vat_no": "91320594MA1XYZ8K2P", "invoice_address": "苏州工业园区星湖街 88 号", "bank": "中国银行苏州园区支行",
            "account_no": "5338 6620 1187", "tax_phone": "0512-6588 1234",
            "reviewers": [{"name": users["director"].id, "title": "销售总监", "department": "销售部", "result": "同意"},
                          {"name": users["impl"].id, "title": "项目经理", "department": "实施部", "result": "工期可行"}],
            "commercial_terms": "合同总价 120 万元，3-6-1 分期付款。", "overall": "条款合理，同意签订。",
            "execution": "实施周期 4 个月，由吴磊负责。"}, {}, "同意。"),
        ("handover", "rep", phase2, {
            "date": today, "handover_date": today, "products": "质量追溯系统（含条码采集、质量看板）",
            "functions": "来料检验、过程追溯、成品追溯、质量报表", "list_price": "120.00",
            "implementation_budget": "18.00", "impl_scope": "二期三条产线的质量追溯上线及培训",
            "impl_start": (clock.today() + timedelta(days=14)).isoformat(),
            "impl_end": (clock.today() + timedelta(days=134)).isoformat(),
            "impl_goals": "四个月内三条产线全部上线", "customer_commitments": "上线后三个月内驻场支持"},
         {"engineer": users["engineer"].id, "project_manager": users["impl"].id}, "已接收。"),
    ]
    approved = 0
    for key, author, project, data, chosen, comment in sheets:
        spec = registry.get(key)
        record = operations.create_record(users[author], project, spec, data)
        operations.submit_record(users[author], record, spec, chosen)
        while record.status == "submitted":
            operations.sign_record(record.waiting_for, record, spec, "approved", comment)
        approved += 1
    request = registry.get("resource_request")
    record = operations.create_record(users["rep2"], data_platform, request, {
        "date": clock.today().isoformat(), "customer_class": "A类客户",
        "support_needed": "需要一名数据采集工程师到现场做接口测试", "reason": "客户要求在方案确认前验证采集频率",
        "support_period": "下周一至周三", "support_form": {"values": ["出差"], "other": ""}})
    operations.submit_record(users["rep2"], record, request, {})
    return approved


def _backdate_history(project: Project, rep, stage: str, days_in: int, now) -> None:
    """Seed data, not anyone's act (so no audit events): walks the project along the stage path with ~2 weeks per stage, ending
    `days_in` days ago in `stage`."""
    path = list(STAGE_PATH[:STAGE_PATH.index(stage) + 1]) if stage in STAGE_PATH else \
        list(STAGE_PATH[:3]) + [stage]
    entered = now - timedelta(days=days_in)
    times = [entered - timedelta(days=14 * (len(path) - 1 - i)) for i in range(len(path))]
    project.created_at = times[0]
    for ev in project.events:
        ev.at = times[0]
    for previous, current, at, before in zip(path, path[1:], times[1:], times, strict=False):
        db.session.add(ProjectEvent(project_id=project.id, kind="stage", from_value=previous, to_value=current,
                                    actor_id=rep.id, at=at, days_in_stage=(at - before).days,
                                    reason="价格高于竞争对手 15%" if current == "lost" else None))
        if current in STAGE_NODES:  # the node the stage implies, dated as the move would have
            db.session.add(ProjectNode(project_id=project.id, node=STAGE_NODES[current], reached_on=clock.local_date(at),
                                       actor_id=rep.id, at=at))
    project.stage = stage
    project.stage_entered_at = entered
    project.updated_at = entered
