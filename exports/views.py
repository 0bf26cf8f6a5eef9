"""The one export view: /exports/<identifier>.<csv|xlsx>?<the page's search parameters>."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_safe

from exports.exporters import ExportParamsError, check_params
from exports.registry import get_exporter
from exports.renderers import RENDERERS


@require_safe
def download(request, identifier: str, file_format: str):
    exporter_class = get_exporter(identifier)
    renderer_class = RENDERERS.get(file_format)
    if exporter_class is None or renderer_class is None:
        raise Http404("No such export")
    if not exporter_class.has_permission(request.user):
        raise PermissionDenied("You may not export this.")
    try:
        check_params(exporter_class, request.GET, extra=renderer_class.options)
        renderer = renderer_class(request.GET)
        exporter = exporter_class(user=request.user, params=request.GET)
    except ExportParamsError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        renderer.render(exporter), content_type=renderer_class.content_type
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{exporter.file_name(renderer_class.extension)}"'
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
