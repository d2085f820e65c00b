"""The groups of settings that `orderdesk.settings` gathers, one concern a module.

Each module reads its environment variables when the settings load; app code reads
`django.conf.settings` when it runs and never imports these modules.
"""
