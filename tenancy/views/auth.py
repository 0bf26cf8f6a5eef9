"""The user's own password change, audited (the login view is panel.views)."""

from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.utils.decorators import method_decorator

from panel.methods import require_form
from tenancy.audit import Actor
from tenancy.services.tenancy import set_user_password


@method_decorator(require_form, name="dispatch")
class AuditedPasswordChangeView(auth_views.PasswordChangeView):
    """The user's own password change, through the service so it writes an audit event."""

    template_name = "registration/password_change.html"

    def form_valid(self, form):
        set_user_password(
            actor=Actor.from_request(self.request),
            user=self.request.user,
            password=form.cleaned_data["new_password1"],
        )
        user = get_user_model().objects.get(pk=self.request.user.pk)
        update_session_auth_hash(self.request, user)
        return HttpResponseRedirect(self.get_success_url())
