"""Release safety in the router: the canary's view and guard, per-version counts, and the conversation-test runner."""
