"""Deleting an extension: a confirmation first, and only without CallerIDs or calls."""

import pytest
from django.urls import reverse

from callback.models import CallbackExtension
from callerids.models import AuthorizedCallerID

pytestmark = pytest.mark.django_db


def test_get_asks_for_confirmation_and_changes_nothing(client_for, extension_a):
    response = client_for("reseller_a").get(
        reverse("callback:extension_delete", args=[extension_a.pk])
    )
    assert "Confirm deletion" in response.content.decode()
    assert CallbackExtension.objects.filter(pk=extension_a.pk).exists()


def test_confirming_deletes_and_returns_to_the_list(client_for, extension_a):
    client = client_for("reseller_a")
    response = client.post(reverse("callback:extension_delete", args=[extension_a.pk]))
    assert response["Location"] == reverse("callback:extension_list")
    assert not CallbackExtension.objects.filter(pk=extension_a.pk).exists()
    assert "0003*001 deleted" in client.get(response["Location"]).content.decode()


def test_an_extension_with_a_callerid_offers_deactivate_and_says_why(client_for, extension_a):
    AuthorizedCallerID.objects.create(
        extension=extension_a, number="1234", status="removed", available=0, total=0
    )
    client = client_for("reseller_a")
    url = reverse("callback:extension_delete", args=[extension_a.pk])
    content = client.get(url).content.decode()
    assert "cannot be deleted because it has had authorized CallerIDs" in content
    assert "Confirm deletion" not in content
    assert reverse("callback:extension_deactivate", args=[extension_a.pk]) in content
    response = client.post(url, follow=True)
    assert CallbackExtension.objects.filter(pk=extension_a.pk).exists()
    assert "deactivate it instead" in response.content.decode()


def test_a_double_submit_does_no_harm(client_for, extension_a):
    client = client_for("admin")
    url = reverse("callback:extension_delete", args=[extension_a.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 404
