"""The cost report's GET form: a range of days in the server time zone and a CallerID.

The CallerID is typed as a number (`number`), checked on the server: an extension may have
a million CallerIDs, so no page lists them all. The C link of the CallerIDs list and the
export links name one CallerID by its id (`callerid`), as they always have.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, QueryDict
from django.utils import timezone

from callback.models import CallbackExtension
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.selectors_cost import CostReportFilter, month_of
from tenancy.preferences import get_preferences
from values.dates import DayField
from values.phone import InvalidNumber, normalize_number

MAX_DAYS = 366
NUMBER_MAX_LENGTH = 40


class CostReportForm(forms.Form):
    """Validates the report's parameters: `from`, `to` (YYYY-MM-DD), and the CallerID as a
    typed `number` or, from a link, an id (`callerid`; `number` wins when both are sent).

    Missing dates mean this month (in the server time zone); one date alone means the rest
    of its month.
    """

    number = forms.CharField(
        label="CallerID",
        required=False,
        max_length=NUMBER_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "inputmode": "tel", "placeholder": "All CallerIDs"}
        ),
    )
    # From links only (never rendered): one query for one id, whatever the CallerIDs count.
    callerid = forms.ModelChoiceField(
        queryset=AuthorizedCallerID.objects.none(), required=False, widget=forms.HiddenInput
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
            "number": self.fields["number"],
            "callerid": self.fields["callerid"],
        }
        self.fields["callerid"].queryset = AuthorizedCallerID.objects.filter(extension=extension)

    def clean_number(self) -> list[AuthorizedCallerID]:
        """The extension's CallerIDs with the typed number (a removed one may share it with
        the one that replaced it: the report holds the calls of all), current one first."""
        text = self.cleaned_data["number"].strip()
        if not text:
            return []
        candidates = {text}
        with contextlib.suppress(InvalidNumber):  # then only the text as typed can match
            candidates.add(normalize_number(text, get_preferences().default_country or None))
        found = list(
            AuthorizedCallerID.objects.filter(extension=self.extension, number__in=candidates)
            .annotate(
                gone=Case(
                    When(status=CallerIDStatus.REMOVED, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
            .order_by("gone", "-id")
        )
        if not found:
            raise forms.ValidationError(f"No CallerID {text} on this extension.")
        return found

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

        A `callerid` (from a link) that is not one of this extension's CallerIDs (another
        extension's, unknown, or not a number) answers 404, like any object outside the
        user's scope; a typed `number` that is not one is an error next to the field.
        """
        if not self.is_valid():
            if "callerid" in self.errors:
                raise Http404("No such CallerID on this extension")
            return None
        typed = self.cleaned_data.get("number")
        if typed:
            callerids = typed
        elif self.cleaned_data.get("callerid") is not None:
            callerids = [self.cleaned_data["callerid"]]
            # Show the linked CallerID's number in the field the user can change.
            self.data = self.data.copy()
            self.data["number"] = callerids[0].number
        else:
            callerids = []
        return CostReportFilter(
            extension=self.extension,
            first_day=self.cleaned_data["from"],
            last_day=self.cleaned_data["to"],
            callerid=callerids[0] if callerids else None,
            callerid_ids=tuple(c.pk for c in callerids),
        )
