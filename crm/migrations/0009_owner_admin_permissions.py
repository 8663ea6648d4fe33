"""The Owner group's admin, as the README promises: the loyalty and outreach
models, and the TOTP devices page where an Owner deletes a lost phone's device.
Owners are also made staff (is_staff), which the admin asks of everyone; the
team page keeps it so when it changes a role.

The loyalty admin shows and never edits (its ledger is append-only), so Owners
view it; outreach settings (templates, rules, campaigns, frequency policy) they
edit there as on their own pages, while the outbox and provider events are
written only by the sender and the webhooks. Adding a device in the admin is
left out: a device is set up by its owner, with their phone.
"""

from django.db import migrations

OWNER_PERMISSIONS = {
    "loyalty": {
        model: ["view"]
        for model in (
            "program",
            "tier",
            "reward",
            "membership",
            "pointsentry",
            "redemption",
            "tierchange",
        )
    },
    "communications": {
        **{
            model: ["view", "add", "change", "delete"]
            for model in (
                "messagetemplate",
                "followuprule",
                "campaign",
                "frequencypolicy",
            )
        },
        "message": ["view"],
        "providerevent": ["view"],
    },
    "otp_totp": {"totpdevice": ["view", "change", "delete"]},
}


def codenames():
    for app_label, models in OWNER_PERMISSIONS.items():
        for model, actions in models.items():
            for action in actions:
                yield app_label, f"{action}_{model}"


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    # Permissions are normally made after migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    owner, _ = Group.objects.get_or_create(name="Owner")
    for app_label, codename in codenames():
        owner.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    User.objects.filter(groups=owner, is_staff=False).update(is_staff=True)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    owner = Group.objects.filter(name="Owner").first()
    if owner is None:
        return
    for app_label, codename in codenames():
        owner.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_audit_team"),
        ("customers", "0002_roles_and_postgres_rules"),
        ("loyalty", "0003_ledger_insert_indexes"),
        ("communications", "0005_provider_events"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
