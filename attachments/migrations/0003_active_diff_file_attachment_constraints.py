"""Only an active diff file attachment holds its file diff side: once a publish removed one
(kept ``inactive``), a new upload for that side is allowed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("attachments", "0002_diff_file_attachments"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="fileattachment",
            name="one_dest_attachment_per_filediff",
        ),
        migrations.RemoveConstraint(
            model_name="fileattachment",
            name="one_source_attachment_per_file_revision",
        ),
        migrations.AddConstraint(
            model_name="fileattachment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("added_in_filediff__isnull", False), ("inactive", False)),
                fields=("added_in_filediff",),
                name="one_active_dest_attachment_per_filediff",
            ),
        ),
        migrations.AddConstraint(
            model_name="fileattachment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("inactive", False), ("repo_revision__isnull", False)),
                fields=("repository", "repo_path", "repo_revision"),
                name="one_active_source_attachment_per_file_revision",
            ),
        ),
    ]
