"""kill -9 while 32 clients write, in the crash campaign's short mode.

The campaign itself is tests/campaigns/crash_campaign.py (long mode by hand:
--iterations 1000). Here: a few iterations without and with sys/rotate running
in a loop, and with unseal-key rekey in a loop (with and without
verification); every acknowledged write must read back exactly after each
restart, unacknowledged ones old or new, nothing torn, nothing lost, and every
restart must unseal with the newest acknowledged shares (or the previous ones
when a rekey was in flight)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "campaigns"))
import crash_campaign  # noqa: E402

ITERATIONS = os.environ.get("COFFER_CRASH_ITERATIONS", "4")


class CrashCampaignShortTest(unittest.TestCase):
    def run_campaign(self, *extra):
        args = crash_campaign.parse_args(["--iterations", ITERATIONS] + list(extra))
        args.seed = int(os.environ.get("COFFER_CRASH_SEED", "0")) or None
        if args.seed is None:
            import random
            args.seed = random.SystemRandom().randrange(1 << 32)
        f = crash_campaign.Campaign(args).run()
        msg = "seed %d: %s" % (args.seed, f["errors"][:5])
        self.assertEqual(f["iterations"], int(ITERATIONS), msg)
        self.assertGreater(f["writes_acked"], 0, msg)
        self.assertGreater(f["acked_checked"], 0, msg)
        self.assertEqual(f["lost"], 0, msg)
        self.assertEqual(f["torn"], 0, msg)
        self.assertEqual(f["unseal_failures"], 0, msg)
        self.assertEqual(f["write_errors"], 0, msg)
        self.assertEqual(f["rekey_errors"], 0, msg)
        return f

    def test_kill9_while_writing(self):
        self.run_campaign()

    def test_kill9_while_writing_and_rotating(self):
        f = self.run_campaign("--rotate")
        self.assertGreater(f["rotations_acked"], 0)

    def test_kill9_while_writing_and_rekeying_with_verification(self):
        f = self.run_campaign("--rekey-verify")
        self.assertGreater(f["rekeys_acked"], 0)
        # The shares are known before they become active: none can be lost.
        self.assertEqual(f["rekey_answers_lost"], 0, f["errors"][:5])

    def test_kill9_while_writing_and_rekeying(self):
        # Without verification a kill during the commit can leave new shares
        # that no client received (counted, and the campaign starts over on a
        # fresh store); everything else must hold.
        f = self.run_campaign("--rekey")
        self.assertGreater(f["rekeys_acked"], 0)


if __name__ == "__main__":
    unittest.main()
