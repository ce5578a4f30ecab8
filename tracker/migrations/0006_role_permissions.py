"""The role permissions and their groups: Contributors, Editors, Reviewers.

The groups are written out here rather than imported from tracker.permissions, so this
migration keeps meaning what it meant when it ran.
"""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

ROLES = {
    "Contributors": ["submit_source"],
    "Editors": ["submit_source", "edit_facts"],
    "Reviewers": ["submit_source", "edit_facts", "review_facts"],
}


def roles_create(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); the groups
    # need them now.
    config = apps.get_app_config("tracker")
    config.models_module = True
    create_contenttypes(config, verbosity=0, apps=apps)
    create_permissions(config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="tracker", codename__in=codenames)
        )


def roles_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0005_date_bounds"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="source",
            options={
                "ordering": ["-created_at"],
                "permissions": [("submit_source", "Can submit sources, URLs and feeds")],
            },
        ),
        migrations.AlterModelOptions(
            name="withdrawal",
            options={
                "ordering": ["deadline", "id"],
                "permissions": [
                    ("edit_facts", "Can edit and lock facts"),
                    ("review_facts", "Can verify machine-read facts and settle conflicts"),
                ],
            },
        ),
        migrations.RunPython(roles_create, roles_delete),
    ]
