"""Replacing the legacy bot, as formats and decisions: the legacy rule file, rules turned into
FAQ entries (plan), patterns turned into questions, and the cutover state and its guard
rule. The router's part is router/migration/."""
