from django.core.management.base import BaseCommand, CommandError

from orderdesk.operations.order_import import COLUMNS, ImportFileError, orders_import_file


class Command(BaseCommand):
    help = (
        "Import orders from a CSV file with the columns "
        + ",".join(COLUMNS)
        + ". Valid rows are imported, existing numbers skipped, errors listed by row and column."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8, header row first)")

    def handle(self, *args, file, **options):
        self.stdout.write(f"Importing orders from {file}…")
        try:
            result = orders_import_file(file, write=self.stdout.write)
        except FileNotFoundError as error:
            raise CommandError(f"no such file: {file}") from error
        except ImportFileError as error:
            raise CommandError(f"{file}: {error}") from error
        for error in result.errors:
            self.stderr.write(f"{file}: {error}")
        summary = (
            f"{len(result.imported)} imported, {len(result.skipped)} skipped (number exists), "
            f"{len(result.errors)} error(s)"
        )
        if result.errors:
            raise CommandError(f"{summary}; fix the rows above and import the file again")
        self.stdout.write(self.style.SUCCESS(summary))
