\set n random(1, 10000)
SELECT v FROM kv WHERE k = 'k' || :n;
