\set n random(1, 10000)
INSERT INTO kv (k, v) VALUES ('k' || :n, '{"a": 1, "body": "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet"}') ON CONFLICT (k) DO UPDATE SET v = excluded.v;
