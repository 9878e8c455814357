"""Blueprints. Each handler: load → check access → call operations → render."""
import logging
import os

from flask import Flask, g, render_template, request

from .. import formtokens
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..pdf import ArchiveCorrupt


def register_views(app: Flask) -> None:
    from . import (admin, agenda, archive, audit, auth, customers, followups, funnel, main, notifications,
                   projects, records, reports, signoff, worklist)
    for module in (auth, main, projects, customers, records, signoff, worklist, archive, funnel, reports, followups,
                   agenda, admin, notifications, audit):
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

    @app.errorhandler(CSRFError)
    def stale_form(_e):
        """A form served before the session changed: views that can, show it
        again with what was typed (formtokens); others explain and lead back."""
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "shows_stale_form", False) and current_user.is_authenticated:
            g.stale_form = True
            try:
                return app.ensure_sync(view)(**(request.view_args or {}))
            except HTTPException as e:
                return app.handle_http_exception(e)
        if getattr(view, "keeps_form_over_login", False):
            from .auth import sign_in_keeping
            return sign_in_keeping(request.path, formtokens.carried_pairs(request.form))
        return render_template("errors/error.html", code=400, title="页面已过期", back=True,
                               message="您已退出登录，或在其他窗口重新登录过，刚才的操作没有执行。"
                                       "请返回刚才的页面，刷新后再提交。"), 400

    @app.errorhandler(400)
    def bad_request(_e):
        return render_template("errors/error.html", code=400, back=True, message="请求无效。"), 400

    @app.errorhandler(ArchiveCorrupt)
    def archive_altered(e):
        """An archived PDF no longer matches its SHA-256: named, not hidden."""
        logging.getLogger("salestrack").error("archived file altered: %s", e)
        return render_template("errors/error.html", code=503, title="归档文件已被改动", message=(
            "该表单的归档 PDF 与存档时记录的 SHA-256 不符，不能提供下载。请通知系统管理员："
            "运行 flask archive verify 查明受影响的文件，并从备份恢复。")), 503

    @app.errorhandler(FileNotFoundError)
    def file_missing(e):
        """A stored file (archived PDF, attachment) is gone from the server."""
        name = os.path.basename(str(getattr(e, "filename", "") or ""))
        logging.getLogger("salestrack").error("stored file missing: %s", e)
        return render_template("errors/error.html", code=503, title="文件缺失", message=(
            f"服务器上找不到所需的文件{f'（{name}）' if name else ''}，可能已被移动或删除。请通知系统管理员："
            "运行 flask archive verify 查明缺失的文件，并从备份恢复。")), 503

    @app.errorhandler(500)
    def server_error(_e):
        return render_template("errors/error.html", code=500, message="服务器出错，已记录。请稍后重试。"), 500
