"""A service's refusal lands on a form next to the field it names, else at its top."""

from django import forms
from django.core.exceptions import ValidationError

from panel.posting import add_refusal
from values.errors import DomainError, LicenseExceeded


class AmountForm(forms.Form):
    amount = forms.CharField(required=False)
    password1 = forms.CharField(required=False)
    service_fields = {"password": "password1"}


def refused(exc):
    form = AmountForm({})
    form.is_valid()
    add_refusal(form, exc)
    return form.errors


def test_an_error_naming_a_field_goes_next_to_it():
    assert refused(DomainError("At most 5 can be removed.", field="amount")) == {
        "amount": ["At most 5 can be removed."]
    }


def test_an_error_naming_no_field_goes_to_the_top():
    assert refused(LicenseExceeded("Adding 1 would exceed the license by 1.")) == {
        "__all__": ["Adding 1 would exceed the license by 1."]
    }


def test_a_field_the_form_does_not_show_goes_to_the_top():
    assert refused(DomainError("Choose Enabled or Disabled.", field="status")) == {
        "__all__": ["Choose Enabled or Disabled."]
    }


def test_the_form_renames_a_service_field():
    assert refused(DomainError({"password": ["Too short."], "amount": "Enter it."})) == {
        "password1": ["Too short."],
        "amount": ["Enter it."],
    }


def test_a_model_validators_error_is_routed_by_its_keys():
    assert refused(ValidationError({"amount": "Bad."})) == {"amount": ["Bad."]}


def test_the_error_keeps_its_messages_and_its_text():
    exc = DomainError("A PIN has 4 to 10 digits.", field="pin")
    assert exc.messages == ["A PIN has 4 to 10 digits."]
    assert exc.by_field() == {"pin": ["A PIN has 4 to 10 digits."]}
    assert str(exc) == str(DomainError("A PIN has 4 to 10 digits."))
