"""Blueprints. Each handler: load → check access → call operations → render."""
from flask import Flask, render_template


def register_views(app: Flask) -> None:
    from . import (admin, archive, audit, auth, customers, followups, funnel, handover, main, notifications,
                   projects, records, signoff)
    for module in (auth, main, projects, customers, records, signoff, handover, archive, funnel, followups, admin,
                   notifications, audit):
        app.register_blueprint(module.bp)

    @app.errorhandler(403)
    def forbidden(_e):
        return render_template("errors/error.html", code=403, message="您没有权限访问此页面。"), 403

    @app.errorhandler(404)
    def not_found(_e):
        return render_template("errors/error.html", code=404, message="页面不存在，或您无权查看。"), 404

    @app.errorhandler(413)
    def too_large(_e):
        return render_template("errors/error.html", code=413, message="上传的文件太大。"), 413

    @app.errorhandler(400)
    def bad_request(e):
        message = "请求无效。"
        if "CSRF" in str(getattr(e, "description", "")):
            message = "页面已过期，请刷新后重试（您输入的内容请先复制保存）。"
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(500)
    def server_error(_e):
        return render_template("errors/error.html", code=500, message="服务器出错，已记录。请稍后重试。"), 500
