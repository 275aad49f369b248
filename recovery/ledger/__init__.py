"""The ledger: the one package that writes money.

It owns the account ledger (`entries`: post one movement, a frame of movements, or the rows of a
select), the allocation of payments to bills and penalties (`allocations`: incremental for a new
payment, a full recompute for what changes the past; `fifo`: the pure engine), and where each account
stands (`positions`). Every other module reads these tables freely but writes them only through here.
"""

from recovery.ledger.entries import post, post_frame, post_select

__all__ = ["post", "post_frame", "post_select"]
