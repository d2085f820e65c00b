"""Running orderdesk: the worker's schedule, the management commands, the demo data and
the CSV import. An edge: it calls the services of every floor below and nothing calls it."""
