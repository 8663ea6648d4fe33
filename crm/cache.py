"""A Redis cache that degrades to "nothing cached" while Redis is away.

Sessions (cached_db), throttling and import progress read the cache on most
requests. With Django's RedisCache a stopped Redis turns every page into a 500;
here a read is a miss and a write is skipped (and logged), so the app keeps
working from the database until Redis is back. Timeouts are short for the same
reason: a hung Redis must not hang the page.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def _tolerant(fallback):
    def decorate(method):
        @wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as error:
                logger.warning(
                    "Cache unavailable (%s): %s skipped", error, method.__name__
                )
                value = fallback(*args, **kwargs)
                return value

        return call

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


class ReusedClientCache(RedisCacheClient):
    """Django's client, keeping one redis.Redis per connection pool.

    Django builds a new redis.Redis for every operation, about half the cost of
    a cache read here, and every page reads the cache twice (its session, the
    session limits). A redis.Redis is safe to share between threads: its
    connections come from the pool it is given.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        options = {"socket_connect_timeout": 1, "socket_timeout": 2}
        options.update(params.get("OPTIONS", {}))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = ReusedClientCache

    get = _tolerant(_default)(RedisCache.get)
    get_many = _tolerant(lambda keys, *a, **k: {})(RedisCache.get_many)
    has_key = _tolerant(lambda *a, **k: False)(RedisCache.has_key)
    add = _tolerant(lambda *a, **k: False)(RedisCache.add)
    set = _tolerant(lambda *a, **k: None)(RedisCache.set)
    set_many = _tolerant(lambda data, *a, **k: list(data))(RedisCache.set_many)
    touch = _tolerant(lambda *a, **k: False)(RedisCache.touch)
    delete = _tolerant(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _tolerant(lambda *a, **k: None)(RedisCache.delete_many)
