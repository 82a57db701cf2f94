from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("rbapi", "CacheGeneration").objects.create(pk=1, value=0)


class Migration(migrations.Migration):
    dependencies = [("rbapi", "0001_idempotency_keys")]

    operations = [
        migrations.CreateModel(
            name="CacheGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
