"""The money rules, pure: each use case loads a named context, asks a ``decide_…``
function here what to do, and writes the answer in the same transaction.

- ``sale``: may this user buy (``may_buy``), a quote's price (``decide_quote``), and what
  a purchase charges and who gets what (``decide_sale``).
- ``balance``: how far a reseller may spend (``reseller_floor``, ``shortfall``,
  ``insufficient_balance``) and the supplier payable's floor.
- ``refund``: which units a refund takes back and the exact reversal of their split.
- ``withdrawal``: how much a supplier may ask to be paid.

Nothing here reads the database or the clock: a decision is a function of its arguments,
tested by tables of worked examples (``tests/core/test_decisions_*.py``).
"""
