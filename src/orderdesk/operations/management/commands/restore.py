from django.core.management.base import BaseCommand, CommandError

from orderdesk.operations.backup import BackupRefused, database_restore


class Command(BaseCommand):
    help = "Replace the whole database with the backup in FILE (stop the server and worker first)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            database_restore(file)
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(f"database restored from {file}")
