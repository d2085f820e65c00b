from django.core.management.base import BaseCommand, CommandError

from orderdesk.operations.backup import BackupRefused, database_backup


class Command(BaseCommand):
    help = "Write the whole database to FILE (SQLite online backup, or pg_dump's custom format)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")

    def handle(self, *args, file, overwrite, **options):
        try:
            written = database_backup(file, overwrite=overwrite)
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(f"backup written to {written}")
