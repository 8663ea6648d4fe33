"""The Redis cache keeps one client per connection pool (crm/cache.py)."""

from crm.cache import ResilientRedisCache


def test_one_client_per_pool_and_it_reads_and_writes(settings):
    cache = ResilientRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "client-test"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client
    cache.set("answer", 42, 30)
    assert cache.get("answer") == 42
    cache.delete("answer")
    assert cache.get("answer") is None
