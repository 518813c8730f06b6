"""The step's server-changes panel: the Apply button counts changes, not the checks that close
a run (QA4 L2: a DKIM apply said "Apply 3 changes" for two changes and an `ls -la` check)."""

from smewizard.actions.base import SetProp, SignalEvent
from smewizard.actions.dkim import VerifyDkimLinks
from smewizard.ui.widgets.actions import apply_label


def test_the_apply_label_counts_changes_and_names_checks_apart():
    change = SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled")
    check = VerifyDkimLinks("example.com", "example.com")
    assert apply_label([change]) == "Apply this change"
    assert apply_label([change, SignalEvent("email-update")]) == "Apply 2 changes"
    assert apply_label([change, SignalEvent("email-update"), check]) == "Apply 2 changes (+1 check)"
