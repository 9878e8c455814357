"""Realistic print documents (plain dicts, as the records code builds them)."""
import hashlib
import json

STAGES = ["客户规划与电话邀约", "客户拜访", "提交初步方案", "方案演示与业绩展示"]
ELEMENTS = ["技术方案匹配度", "价格竞争力", "交货周期", "售后服务网点", "品牌认可度",
            "关键决策人关系", "付款条件", "样机测试结果", "竞争对手动向", "采购流程进度"]


def visit_report(status: str = "approved", findings: int = 20, *, verify: bool = True) -> dict:
    """A customer visit summary with ``findings`` rows in its first table."""
    rows = [[f"{ELEMENTS[i % len(ELEMENTS)]}（第{i + 1}项）",
             f"客户认可我方{['液压','伺服','变频','PLC'][i % 4]}方案，第{i + 1}点优势明确",
             "报价高于竞品约8%" if i % 3 == 0 else "无",
             f"建议第{i + 1}周内补充测试报告"] for i in range(findings)]
    doc = {
        "title": "客户拜访总结报告", "title_en": "Customer visit summary",
        "number": "BF-2026-0042", "sheet": "visit_report", "status": status,
        "header": [{"label": "编号", "value": "BF-2026-0042"},
                   {"label": "大客户经理", "value": "张伟"},
                   {"label": "日期", "value": "2026-11-20"}],
        "note": "注意：不一定在第二阶段，销售过程中任何阶段存在拜访都得填写该表。",
        "sections": [
            {"title": "", "items": [
                {"type": "field", "key": "customer_name", "label": "客户名称",
                 "value": "江苏恒力精密机械有限公司", "kind": "text", "wide": False},
                {"type": "field", "key": "customer_no", "label": "客户编号",
                 "value": "KH-0317", "kind": "text", "wide": False},
                {"type": "field", "key": "stage", "label": "拜访处在哪个阶段",
                 "value": "方案演示与业绩展示", "kind": "choice", "wide": True},
                {"type": "field", "key": "visitee", "label": "拜访对象",
                 "value": "王建国 总工程师", "kind": "text", "wide": False},
                {"type": "field", "key": "visited_at", "label": "拜访时间",
                 "value": "2026-11-18 14:30", "kind": "datetime", "wide": False},
                {"type": "field", "key": "place", "label": "拜访地点",
                 "value": "常州市武进区客户三号厂房会议室", "kind": "text", "wide": False},
                {"type": "field", "key": "companions", "label": "拜访陪同人",
                 "value": "刘洋（技术支持）", "kind": "text", "wide": False},
                {"type": "field", "key": "agenda", "label": "拜访主要内容",
                 "value": "1. 演示伺服压装线样机数据\n2. 了解二期扩产时间表\n3. 确认技术评审参与人",
                 "kind": "textarea", "wide": True},
                {"type": "field", "key": "goal", "label": "要达到什么样的结果",
                 "value": "总工认可技术路线，同意安排下周技术评审会。", "kind": "textarea", "wide": True},
            ]},
            {"title": "拜访实际情况", "items": [
                {"type": "table", "key": "findings", "label": "拜访实际情况",
                 "columns": ["关键评估元素情况", "我们的成功", "我们的失败", "客户建议"],
                 "rows": rows}]},
            {"title": "拜访中对客户的承诺", "items": [
                {"type": "table", "key": "promises", "label": "拜访中对客户的承诺",
                 "columns": ["承诺", "反馈时间", "责任人", "任务行动计划"],
                 "rows": [["提供同类项目业绩清单", "2026-11-25", "张伟", "整理近三年汽车零部件行业案例"],
                          ["安排样机到厂测试", "2026-12-05", "刘洋", "协调生产部备机并办理出库"]]}]},
            {"title": "", "items": [
                {"type": "field", "key": "next_visit_at", "label": "约定下次拜访时间",
                 "value": "2026-11-27 09:00", "kind": "datetime", "wide": False},
                {"type": "field", "key": "next_visit_place", "label": "约定下次拜访的地点",
                 "value": "客户技术中心", "kind": "text", "wide": False},
                {"type": "field", "key": "next_visit_purpose", "label": "下次拜访目的",
                 "value": "参加技术评审会", "kind": "text", "wide": True},
                {"type": "field", "key": "next_actions", "label": "对此客户下一步拟采取行动计划",
                 "value": "准备评审材料；邀请公司技术总监同行。\n同步跟进采购部李经理。",
                 "kind": "textarea", "wide": True},
            ]},
        ],
        "slots": [{"key": "review", "label": "领导建议", "comment_label": "领导建议"}],
        "signatures": [{"slot_label": "领导建议", "signer": "王强 代 李娜", "decision": "同意",
                        "comment": "评审会前把报价策略报我审核。", "at": "2026-11-21 10:02",
                        "hash": "a1b2c3d4e5f6"}],
        "record_keeping": [],
        "revisions": [{"number": 2, "author": "张伟", "at": "2026-11-20 16:40",
                       "changes": [{"label": "拜访地点", "old": "客户办公楼", "new": "常州市武进区客户三号厂房会议室"}]}],
        "timeline": [{"at": "2026-11-20 17:05", "actor": "张伟", "action": "提交", "comment": ""},
                     {"at": "2026-11-21 10:02", "actor": "王强 代 李娜", "action": "同意",
                      "comment": "评审会前把报价策略报我审核。"}],
        "verify_url": "http://salestrack.example.cn/verify/BF-2026-0042" if verify else None,
    }
    if status != "approved":
        doc["signatures"] = [{"slot_label": "领导建议", "signer": "", "decision": "",
                              "comment": "", "at": "", "hash": ""}]
        doc["timeline"] = doc["timeline"][:1]
    doc["content_hash"] = hashlib.sha256(
        json.dumps(doc["sections"], ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return doc


def customer_info(status: str = "approved") -> dict:
    """A customer master record with its record-keeping foot block."""
    fields = [("企业名称", "name", "江苏恒力精密机械有限公司", True), ("企业简称", "short_name", "恒力精机", False),
              ("企业标识/编号", "customer_no", "KH-0317", False), ("客户类别", "category", "VIP", False),
              ("客户来源", "source", "展会", False), ("法人代表", "legal_rep", "陈国栋", False),
              ("联系人", "contact", "王建国", False), ("地址", "address", "江苏省常州市武进区湖塘镇工业园8号", True),
              ("电话", "phone", "0519-86551234", False), ("E-mail", "email", "wangjg@hengli-jj.cn", False),
              ("异常情况", "anomalies", "2025年曾延迟付款两个月，已结清。", True)]
    return {
        "title": "客户基本信息表", "title_en": "Customer basic information",
        "number": "KH-2026-0317", "sheet": "customer_info", "status": status,
        "header": [{"label": "编号", "value": "KH-2026-0317"}, {"label": "填写人", "value": "张伟"},
                   {"label": "日期", "value": "2026-11-02"}],
        "note": None,
        "sections": [{"title": "", "items": [
            {"type": "field", "key": k, "label": label, "value": v,
             "kind": "textarea" if k == "anomalies" else "text", "wide": wide}
            for label, k, v, wide in fields]}],
        "slots": [{"key": "audit", "label": "信息审核人", "comment_label": None}],
        "signatures": [{"slot_label": "信息审核人", "signer": "李娜", "decision": "同意", "comment": "",
                        "at": "2026-11-03 09:12", "hash": "0f9e8d7c6b5a"}],
        "record_keeping": [{"label": "信息登记日期", "value": "2026-11-02"},
                           {"label": "信息录入人", "value": "张伟"},
                           {"label": "信息采集人", "value": "赵敏"},
                           {"label": "信息审核人", "value": "李娜"},
                           {"label": "信息审核标记", "value": "已审核"}],
        "revisions": [{"number": 2, "author": "张伟", "at": "2026-11-20 16:40",
                       "changes": [{"label": "客户类别", "old": "一般", "new": "VIP"}]}],
        "timeline": [{"at": "2026-11-02 17:00", "actor": "张伟", "action": "提交", "comment": ""},
                     {"at": "2026-11-03 09:12", "actor": "李娜", "action": "同意", "comment": ""}],
        "verify_url": "http://salestrack.example.cn/verify/KH-2026-0317",
        "content_hash": "7" * 64,
    }
