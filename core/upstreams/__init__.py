"""Upstream sources (货源对接): other platforms Kameng buys from through their API.

``adapter.py`` is the one interface every protocol implements (``kameng.py``,
``dujiao.py``); ``registry.py`` keeps the upstreams (secrets encrypted at rest);
``sync.py`` mirrors an upstream's products into SKUs, priced by ``core/pricing/upstream.py``.
"""
