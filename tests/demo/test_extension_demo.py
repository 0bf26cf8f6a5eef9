"""Demo callback extensions: each return mode in every organization, idempotent."""

import io

import pytest

from callback.models import CallbackExtension, ReturnMode
from demo import extensions as demo_extensions

pytestmark = pytest.mark.django_db


def test_it_creates_nothing_without_organizations():
    demo_extensions.seed(io.StringIO())
    assert not CallbackExtension.objects.exists()


def test_it_creates_each_return_mode_per_organization_once(org_a, org_b):
    demo_extensions.seed(io.StringIO())
    demo_extensions.seed(io.StringIO())
    first = {e.number: e for e in CallbackExtension.objects.filter(organization=org_a)}
    assert sorted(first) == ["0003*001", "0003*002", "0003*003"]
    assert [first[n].return_mode for n in sorted(first)] == [
        ReturnMode.AUTHORIZED,
        ReturnMode.FIXED,
        ReturnMode.CALLER,
    ]
    assert first["0003*002"].fixed_number == "+40721000123"
    assert (
        CallbackExtension.objects.filter(organization=org_b, number__startswith="0004*").count()
        == 3
    )
    assert CallbackExtension.objects.count() == 6


def test_the_demo_extensions_pass_the_model_validators(org_a):
    demo_extensions.seed(io.StringIO())
    for extension in CallbackExtension.objects.all():
        extension.full_clean()
