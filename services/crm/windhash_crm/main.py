"""`windhash crm`: run the CRM service until SIGTERM or SIGINT; exit non-zero when it fails."""

from windhash_common.logging_setup import configure_logging
from windhash_common.worker_process import run_until_signalled

from windhash_crm.service import run_crm
from windhash_crm.settings import CrmSettings


def run() -> None:
    settings = CrmSettings()
    configure_logging(settings.log_level, settings.log_json)
    run_until_signalled(lambda stop: run_crm(settings, stop), "crm service")
