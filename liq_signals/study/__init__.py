"""The evidence a strategy author needs before trusting a liquidation term.

``estimators`` (rank IC, partial IC, moving-block bootstrap, matched differences),
``terms`` (the strategy's terms, one definition shared with the strategy), ``events``
(event studies with matched controls), ``magnet`` (first passage against a driftless
null), ``report`` (one pair's study as markdown, JSON and PNG).
"""
