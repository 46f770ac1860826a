"""Every model and field of our apps has a translatable label (issue 8, item 4), so the French admin is French.

A field without ``verbose_name`` gets one made from its name ("created at"), which no catalog translates. Django's
own fields (``AbstractUser``) are labelled by Django. The grant tables redeclare django-guardian's ``permission``,
``user`` and ``group`` fields with labels, since guardian gives them none. Historical models of
django-simple-history copy the labels of the model they record, and the tables Django makes for many-to-many fields
are never shown, so neither is checked here.
"""

import pytest
from django.apps import apps
from django.utils.functional import Promise

APPS = ["communities", "spaces", "members", "analytics"]


def our_models():
    return [
        model
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        if not model.__name__.startswith("Historical") and not model._meta.auto_created
    ]


def labelled_fields(model):
    """Concrete and many-to-many fields, without the ``id`` Django adds itself."""
    fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
    return [field for field in fields if not (field.auto_created and field.primary_key)]


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_model_and_its_fields_have_translatable_labels(model):
    untranslated = [field.name for field in labelled_fields(model) if not isinstance(field.verbose_name, Promise)]

    assert untranslated == [], f"{model._meta.label}: fields without a gettext_lazy verbose_name"
    assert isinstance(model._meta.verbose_name, Promise), f"{model._meta.label}: Meta.verbose_name"
    assert isinstance(model._meta.verbose_name_plural, Promise), f"{model._meta.label}: Meta.verbose_name_plural"


def test_every_app_is_checked():
    labels = {model._meta.app_label for model in our_models()}

    assert labels == set(APPS)
