\set n random(1, 10000)
SELECT pgcache_proto.set_plpgsql('bench', 'k' || :n, '{"a": 1, "body": "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet"}'::jsonb, interval '1 hour');
