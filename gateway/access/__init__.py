"""Who is calling, what they may spend, and how much of the gateway they may hold.

- `credentials`: which bearer token a call spends, caller tokens and client certificates,
  the tenant key that scopes shared state;
- `caller_quota`: each caller's fair share of unary calls and watches.

May import contract, observability, config and the layers below them.
"""
