"""The import upload form (SPEC §5.2): validates and reads the upload, nothing more."""

from django import forms
from django.conf import settings

from callerids.importing.reading import SEPARATORS


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="File (CSV or XLSX)",
        help_text="Each line: callback number, PIN, order number, initial credit.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    separator = forms.ChoiceField(
        label="Field separator",
        choices=list(SEPARATORS.items()),
        initial=",",
        help_text="For CSV files only.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {limit / (1024 * 1024):.0f} MB. "
                "Split it into smaller files."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def content(self) -> bytes:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        return upload.read()
