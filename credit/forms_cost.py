"""The cost report's GET form: a range of days in the server time zone and a CallerID."""

from __future__ import annotations

from django import forms
from django.http import Http404, QueryDict
from django.utils import timezone

from callback.dates import DayField
from callback.models import CallbackExtension
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.selectors_cost import CostReportFilter, month_of

MAX_DAYS = 366


class CallerIDChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AuthorizedCallerID) -> str:
        if obj.status == CallerIDStatus.REMOVED:
            return f"{obj.number} (removed)"
        return obj.number


class CostReportForm(forms.Form):
    """Validates the report's parameters: `from`, `to` (YYYY-MM-DD) and `callerid` (an id).

    Missing dates mean this month (in the server time zone); one date alone means the rest
    of its month.
    """

    callerid = CallerIDChoiceField(
        queryset=AuthorizedCallerID.objects.none(),
        required=False,
        label="CallerID",
        empty_label="All CallerIDs",
    )

    def __init__(self, params: QueryDict, *, extension: CallbackExtension):
        data = params.copy()
        start, end = (data.get("from") or "").strip(), (data.get("to") or "").strip()
        if not start and not end:
            first, last = month_of(timezone.localdate())
            data["from"], data["to"] = first.isoformat(), last.isoformat()
        super().__init__(data)
        self.extension = extension
        # "from" is a Python keyword, so these two fields are added here, not declared.
        # DayField refuses a date near the calendar's ends before clean() does date arithmetic.
        self.fields = {
            "from": DayField(label="From", required=False, input_formats=["%Y-%m-%d"]),
            "to": DayField(label="To", required=False, input_formats=["%Y-%m-%d"]),
            "callerid": self.fields["callerid"],
        }
        self.fields["callerid"].queryset = AuthorizedCallerID.objects.filter(
            extension=extension
        ).order_by("number", "id")

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("from"), cleaned.get("to")
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        if first is None and last is not None:
            first = last.replace(day=1)
        if last is None and first is not None:
            last = month_of(first)[1]
        if first > last:
            self.add_error("to", "The end date must not be before the start date.")
        elif (last - first).days + 1 > MAX_DAYS:
            self.add_error("to", f"Choose a range of at most {MAX_DAYS} days.")
        cleaned["from"], cleaned["to"] = first, last
        return cleaned

    def report_filter(self) -> CostReportFilter | None:
        """The validated filter, or None when the dates have errors (shown next to the fields).

        A `callerid` that is not one of this extension's CallerIDs (another extension's,
        unknown, or not a number) answers 404, like any object outside the user's scope.
        """
        if not self.is_valid():
            if "callerid" in self.errors:
                raise Http404("No such CallerID on this extension")
            return None
        return CostReportFilter(
            extension=self.extension,
            first_day=self.cleaned_data["from"],
            last_day=self.cleaned_data["to"],
            callerid=self.cleaned_data.get("callerid"),
        )
